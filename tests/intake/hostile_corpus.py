"""The hostile files of issue 13, made on the fly (nothing huge is committed).

    .venv/bin/python tests/intake/hostile_corpus.py DIR   # writes every file into DIR

Each XLSX is a minimal valid workbook (one sheet, one shared string) whose sheet or shared-strings part is
replaced by a stream that unpacks to gigabytes: the repeated piece is deflated once after a
full flush (which resets the compressor, so every later copy deflates to the same bytes)
and its deflated bytes are repeated, with the CRC computed over the whole unpacked stream.
So a file of 2.6 MB that unpacks to 1.8 GB takes about a second to make.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def _deflate(head: bytes, piece: bytes, copies: int, tail: bytes) -> tuple[bytes, int, int]:
    """(raw deflate data, CRC-32, unpacked size) of head + piece * copies + tail."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(piece) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(piece) + c.flush(zlib.Z_FULL_FLUSH) == again
    last = c.compress(tail) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(tail, crc)
    return first + again * copies + last, crc, len(head) + len(piece) * copies + len(tail)


def _zip(members: Iterable[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP of already deflated members: (name, deflate data, crc, unpacked size)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in members:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0))
        out.write(raw)
        out.write(data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/{SHEET}" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/{STRINGS}" ContentType="{_CT}.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{_R}/officeDocument"/></Relationships>'),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{_R}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>'
        '</sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        f'Type="{_R}/worksheet"/><Relationship Id="rId2" Target="sharedStrings.xml" '
        f'Type="{_R}/sharedStrings"/></Relationships>'),
}
_HEADER_ROW = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
_STRINGS_PART = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>kind</t></si></sst>'.encode()
_SHEET_PART = f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + _HEADER_ROW + b"</sheetData></worksheet>"


def _stored(content: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(content) + c.flush(), zlib.crc32(content), len(content)


def _workbook_with(part: str, stream: tuple[bytes, int, int]) -> bytes:
    """A minimal workbook (one sheet, one shared string "kind" in A1) with `part` replaced."""
    parts = {name: _stored(xml.encode()) for name, xml in PARTS.items()}
    parts[SHEET] = _stored(_SHEET_PART)
    parts[STRINGS] = _stored(_STRINGS_PART)
    parts[part] = stream
    return _zip((name, *value) for name, value in parts.items())


def _sheet(rows_xml: bytes, piece: bytes, copies: int, tail: bytes = b"") -> tuple[bytes, int, int]:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>'.encode() + rows_xml
    return _deflate(head, piece, copies, tail + b"</sheetData></worksheet>")


def xlsx_wide_row(cells: int = 20_000_000) -> bytes:
    """One row of `cells` cells (20,000,000: about 584 KB packed, 320 MB unpacked)."""
    unit = min(cells, 5000)
    return _workbook_with(SHEET, _sheet(_HEADER_ROW + b'<row r="2">', b"<c><v>1</v></c>" * unit, cells // unit,
                                        b"</row>"))


def xlsx_blank_rows(rows: int = 300_000_000) -> bytes:
    """`rows` blank rows (300,000,000: about 2.6 MB packed, 1.8 GB unpacked)."""
    unit = min(rows, 50_000)
    return _workbook_with(SHEET, _sheet(_HEADER_ROW, b"<row/>" * unit, rows // unit))


def xlsx_huge_string(size: int = 1 << 30) -> bytes:
    """One shared string of `size` characters (1 GiB: about 1 MB packed)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    unit = min(size, 1 << 20)
    return _workbook_with(STRINGS, _deflate(head, b"A" * unit, size // unit, b"</t></si></sst>"))


def csv_wide_header(columns: int = 2_000_000) -> bytes:
    """A CSV header of `columns` columns (2,000,000: 4 MB)."""
    return b"a," * (columns - 1) + b"a\r\n"


def json_deep(depth: int = 100_000) -> bytes:
    return b'{"records": ' + b"[" * depth + b"]" * depth + b"}"


def json_long_integer(digits: int = 100_000) -> bytes:
    return b'{"records": [{"kind": "penalty", "source_record_id": ' + b"7" * digits + b"}]}"


CORPUS: dict[str, tuple[str, Callable[[], bytes]]] = {
    # name: (file name, maker)
    "xlsx_wide_row": ("wide_row.xlsx", xlsx_wide_row),
    "xlsx_blank_rows": ("blank_rows.xlsx", xlsx_blank_rows),
    "xlsx_huge_string": ("huge_string.xlsx", xlsx_huge_string),
    "csv_wide_header": ("wide_header.csv", csv_wide_header),
}
JSON_CORPUS: dict[str, Callable[[], bytes]] = {"json_deep": json_deep, "json_long_integer": json_long_integer}


def write_corpus(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (file_name, make) in CORPUS.items():
        paths[name] = directory / file_name
        paths[name].write_bytes(make())
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hostile_corpus.py DIR")
    for name, path in write_corpus(Path(sys.argv[1])).items():
        print(f"{name}: {path} ({path.stat().st_size:,} bytes)")
