"""XLSX workbooks, read as a stream within `ReadLimits` (formulas as their cached values).

The records are on the first sheet, unless a sheet is named after the expected kind
(``penalty`` or 行政处罚, for instance). Reading goes in this order, each step bounded
before the next one unpacks anything:

1. the ZIP directory: the parts' declared sizes (zipfile never unpacks more than a part
   declares, and fails its CRC if the data says otherwise): all parts together at most
   `xlsx_max_uncompressed_bytes`, no part above 1 MiB packed more than
   `xlsx_max_compression_ratio` times (Apache POI's zip-bomb rule), no part other than a
   sheet or the shared strings above `xlsx_max_part_bytes` (openpyxl parses those whole);
2. the shared strings, streamed with lxml (one ``<si>`` at a time, each at most
   `max_cell_chars` characters) before openpyxl loads them into a list;
3. the workbook, its styles (which cells are dates) and the sheet list, by openpyxl's
   `ExcelReader` steps, but not its read-only worksheet: that reads the whole sheet once
   just to find its size when ``<dimension>`` is missing, and pads every row to the
   declared width (``A1:XFD1048576`` is 17 billion cells);
4. the sheet, streamed with lxml: every element is counted as it ends, so a row stops at
   `8 * max_columns` elements before it is built (and at `max_columns` cells after), each
   finished row and whatever lies between rows is dropped from the tree, and the rows
   (blank ones too) count against `max_rows` in `gateway.intake.files`. Each row's cells are decoded by
   openpyxl's own `WorkSheetParser.parse_row` (types, shared strings, dates).

openpyxl's remaining XML goes through defusedxml (a dependency for that reason), lxml is
run with entities, DTDs and the network off: a workbook cannot smuggle in entity expansion.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from lxml import etree
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from gateway.intake.columns import kind_of
from gateway.intake.limits import MIB, LimitExceeded, ReadLimits

_ROW = f"{{{SHEET_MAIN_NS}}}row"
_SI = f"{{{SHEET_MAIN_NS}}}si"
_MAX_PARTS = 10_000
_RATIO_FLOOR = MIB  # parts smaller than this may pack as tightly as they like


def rows(
    data: bytes, kind: str | None = None, limits: ReadLimits | None = None
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, cell values) for each row present in the chosen sheet, blanks too.

    Raises LimitExceeded, and what a damaged workbook raises (zipfile.BadZipFile, KeyError,
    ValueError, lxml's XMLSyntaxError, defusedxml's refusals); the caller turns those into
    one answer.
    """
    limits = limits or ReadLimits()
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer) as archive:
        check_archive(archive, len(data), limits)
    reader = ExcelReader(buffer, read_only=True, data_only=True)
    try:
        reader.read_manifest()
        strings = reader.package.find(SHARED_STRINGS)
        if strings is not None:
            with reader.archive.open(strings.PartName[1:]) as src:
                check_shared_strings(src, limits)
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [(sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets()
                  if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
        if not sheets:
            raise ValueError("the workbook has no worksheet")
        target = sheets[0][1]
        if kind is not None:
            target = next((t for name, t in sheets if kind_of(name) == kind), target)
        with reader.archive.open(target) as src:
            yield from _sheet_rows(src, reader, limits)
    finally:
        reader.archive.close()


def check_archive(archive: zipfile.ZipFile, packed_size: int, limits: ReadLimits) -> None:
    """Refuse a package by its directory alone, before any part is unpacked."""
    infos = archive.infolist()
    if len(infos) > _MAX_PARTS:
        raise LimitExceeded("archive_too_large", f"the workbook has more than {_MAX_PARTS:,} parts",
                            "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES", limits.xlsx_max_uncompressed_bytes)
    total = sum(i.file_size for i in infos)
    if total > limits.xlsx_max_uncompressed_bytes:
        raise LimitExceeded(
            "archive_too_large",
            f"the workbook unpacks to {total:,} bytes; at most {limits.xlsx_max_uncompressed_bytes:,} are read",
            "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES", limits.xlsx_max_uncompressed_bytes)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.xlsx_max_compression_ratio:
            raise LimitExceeded(
                "compression_ratio",
                f"part {info.filename} unpacks {ratio:,.0f} times its packed size (at most "
                f"{limits.xlsx_max_compression_ratio:g}): refused as a zip bomb",
                "GATEWAY_INTAKE_XLSX_MAX_COMPRESSION_RATIO", limits.xlsx_max_compression_ratio)
        name = info.filename.lower()
        bulk = name.startswith("xl/worksheets/") or name.endswith("sharedstrings.xml")
        if not bulk and info.file_size > limits.xlsx_max_part_bytes:
            raise LimitExceeded(
                "archive_too_large",
                f"part {info.filename} unpacks to {info.file_size:,} bytes; at most "
                f"{limits.xlsx_max_part_bytes:,} are read", "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES",
                limits.xlsx_max_part_bytes)


_PER_CELL = 8  # elements a cell may bring along (c, v, f, is, r, t, rPr …) before it is too many


def _elements(source: IO[bytes], unit: str, budget: int, overflow: Callable[[], Exception]) -> Iterator[Any]:
    """Each `unit` element as it ends, and then it is freed with the siblings before it.

    Every other element is counted as it ends; past `budget` of them since the last unit,
    they are refused with `overflow()` when they lie inside a unit being read (a row of too
    many cells, a string of too many runs), and freed when they lie outside (hyperlinks,
    merged ranges): nothing the reader does not need stays in memory.
    """
    pending = 0
    parse = etree.iterparse(source, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                            huge_tree=False, remove_comments=True, remove_pis=True)
    for _, element in parse:
        if element.tag == unit:
            yield element
            _drop(element)
            pending = 0
            continue
        pending += 1
        if pending > budget:
            if any(ancestor.tag == unit for ancestor in element.iterancestors()):
                raise overflow()
            _drop(element)
            pending = 0


def _drop(element: etree._Element) -> None:
    """Free a finished element and the siblings before it (iterparse keeps them otherwise)."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def check_shared_strings(source: IO[bytes], limits: ReadLimits) -> None:
    """Refuse a shared string longer than a cell may be, one ``<si>`` in memory at a time."""
    number = 0

    def overflow() -> Exception:
        return limits.cell_too_long(f"shared string {number + 1:,}")

    for si in _elements(source, _SI, limits.max_cell_chars, overflow):
        number += 1
        if sum(len(t) for t in si.itertext()) > limits.max_cell_chars:
            raise limits.cell_too_long(f"shared string {number:,}")


def _sheet_rows(source: IO[bytes], reader: ExcelReader, limits: ReadLimits) -> Iterator[tuple[int, tuple]]:
    wb = reader.wb
    parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=wb.epoch,
                             date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)

    def overflow() -> Exception:
        return limits.too_many_columns(parser.row_counter + 1)

    for element in _elements(source, _ROW, _PER_CELL * limits.max_columns, overflow):
        number, parsed = parser.parse_row(element)
        yield number, _values(parsed, number, limits)


def _values(parsed: list[dict[str, Any]], number: int, limits: ReadLimits) -> tuple[Any, ...]:
    if not parsed:
        return ()
    width = max(cell["column"] for cell in parsed)
    if width > limits.max_columns:
        raise limits.too_many_columns(number)
    values: list[Any] = [None] * width
    for cell in parsed:
        value = cell["value"]
        if value.__class__ is str and len(value) > limits.max_cell_chars:
            raise limits.cell_too_long(f"row {number}, column {cell['column']}")
        values[cell["column"] - 1] = value
    return tuple(values)
