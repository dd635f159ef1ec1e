"""File import: an agency's CSV, XLSX or XML file as raw record dicts plus row problems.

`parse_file` only reads: it finds the format (by content: the ZIP magic of XLSX, a leading
``<`` of XML, else CSV; then by file name and content type), the encoding, the header and
what each column means (`gateway.intake.columns`), and yields one record dict per data row
in the shape the intake API accepts. Validation and storage happen downstream; a row
appears in `problems` only when it could not even become a record dict (unknown column,
missing kind, unreadable cell), and a problem at the header row (row 1) is about a whole
column and stops no row.

Rows are numbered as the agency sees them: in CSV and XLSX the header is row 1 and the
first data row row 2 (blank rows count, they are merely skipped); in XML a row is the
1-based position of the ``<record>`` element. `write_rejection_report` turns problems back
into a CSV the agency can open in Excel, fix and resend.

Whole-file failures raise `FileUnreadable` (a ValueError with a stable `reason`; for XML
that is not well-formed it is also a `gateway.xmlsafe.MalformedXml`), a file beyond a
reading limit (`gateway.intake.limits.ReadLimits`: rows, cells per row, characters per
cell, the workbook's unpacked size and compression ratio) raises its subclass
`LimitExceeded`, and unsafe XML raises `gateway.xmlsafe.UnsafeXml`; the API maps them to
4xx answers. Every row read, blank or not, counts against the row limit, and every
thousand rows the request's deadline is checked (`gateway.deadlines`).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from lxml import etree

from gateway import xmlsafe
from gateway.intake import csvfile, xlsxfile, xmlfile
from gateway.intake.columns import Layout, Problem, kind_of, two_row_header
from gateway.intake.limits import CHECK_EVERY, FileUnreadable, LimitExceeded, ReadLimits, check_deadline

__all__ = ["FileUnreadable", "LimitExceeded", "ReadLimits", "parse_file", "write_rejection_report"]

Format = Literal["csv", "xlsx", "xml"]


class RowProblem(NamedTuple):
    """Why one row (or, at the header row, one column) did not become a record."""

    row: int
    field: str
    reason: str
    message: str


class ParsedRow(NamedTuple):
    row: int
    record: dict[str, Any]


@dataclass
class ParsedFile:
    records: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str | None = None  # None for XLSX, whose parts are always UTF-8 XML
    format: Format = "csv"
    layout: Layout | None = None  # the header's reading (CSV, XLSX): where each field's column is


class MalformedXmlFile(FileUnreadable, xmlsafe.MalformedXml):
    """Not well-formed XML: both a FileUnreadable (reason malformed_xml) and xmlsafe's MalformedXml."""


_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (BIFF)
_EXTENSIONS: dict[str, Format] = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xml": "xml",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}


def detect_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> Format:
    """csv, xlsx or xml: by content first, then by the name and the declared type."""
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        raise FileUnreadable(
            "unsupported_format", "legacy .xls workbooks are not accepted; save as .xlsx or CSV"
        )
    head = data[:256]
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(encoding, errors="ignore").encode()
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return "xml"
    if filename:
        suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
    ctype = (content_type or "").split(";")[0].strip().lower()
    if "spreadsheetml" in ctype:
        return "xlsx"
    if ctype.endswith("xml"):
        return "xml"
    return "csv"


def parse_file(
    data: bytes,
    filename: str | None,
    content_type: str | None,
    default_kind: str | None = None,
    max_rows: int | None = None,
    limits: ReadLimits | None = None,
) -> ParsedFile:
    """Read an imported file into raw record dicts (by row) and row problems.

    `default_kind` (an English kind or its Chinese name) applies to rows whose kind neither a
    kind column nor CF_* / XK_* columns give. Raises FileUnreadable, xmlsafe.UnsafeXml, and
    ValueError for an unknown `default_kind`. `max_rows`, when given, overrides
    `limits.max_rows`.
    """
    limits = limits or ReadLimits()
    if max_rows is not None:
        limits = dataclasses.replace(limits, max_rows=max_rows)
    kind = None
    if default_kind is not None and (kind := kind_of(default_kind)) is None:
        raise ValueError(f"unknown record kind {default_kind!r}")
    fmt = detect_format(data, filename, content_type)
    if fmt == "xml":
        return _parse_xml(data, limits)
    if fmt == "xlsx":
        try:
            return _tabulate(xlsxfile.rows(data, kind, limits), kind, limits, ParsedFile(format="xlsx"))
        except FileUnreadable:
            raise
        except (zipfile.BadZipFile, KeyError, OSError, TypeError, ValueError, etree.LxmlError) as exc:
            if type(exc).__module__.startswith("defusedxml"):
                raise xmlsafe.UnsafeXml(f"the workbook uses a refused XML feature: {exc}") from None
            raise FileUnreadable("malformed_xlsx", f"the workbook cannot be read: {exc}") from None
    try:
        text, encoding = csvfile.decode(data)
    except UnicodeError as exc:
        raise FileUnreadable("unknown_encoding", str(exc)) from None
    try:
        return _tabulate(csvfile.rows(text, limits.max_columns), kind, limits,
                         ParsedFile(format="csv", encoding=encoding))
    except csvfile.TooManyFields as exc:
        raise limits.too_many_columns(exc.row) from None
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise limits.cell_too_long("a field") from None
        raise FileUnreadable("malformed_csv", f"the CSV cannot be read: {exc}") from None


def _blank(cells: Sequence[Any]) -> bool:
    return not any(c is not None and (c.__class__ is not str or c.strip()) for c in cells)


def _tabulate(
    rows: Iterator[tuple[int, Sequence[Any]]], kind: str | None, limits: ReadLimits, out: ParsedFile
) -> ParsedFile:
    layout: Layout | None = None
    problems: list[Problem] = []
    count = 0
    first: tuple[int, Sequence[Any]] | None = None  # the first row, until the next says if it is the header
    for number, cells in rows:
        count += 1  # every row read counts, blank or not: the header is the one not counted
        if count > limits.max_rows + 1:  # the header is not counted
            raise limits.too_many_rows()
        if count % CHECK_EVERY == 0:
            check_deadline(number)
        if len(cells) > limits.max_columns:
            raise limits.too_many_columns(number)
        if out.format == "csv" and cells and max(map(len, cells)) > limits.max_cell_chars:
            raise limits.cell_too_long(f"row {number}")
        if _blank(cells):
            continue
        if layout is None:
            if first is None:
                first = (number, cells)
                continue
            header = two_row_header(first[1], cells)
            layout = Layout(header if header is not None else first[1], number if header is not None else first[0])
            if header is not None:
                count -= 1  # a two-row header: its second row is not a data row either
                continue
        record, row_problems = layout.build(number, cells, kind)
        if record is not None:
            out.records.append(ParsedRow(number, record))
        problems.extend(row_problems)
    if layout is None and first is not None:
        layout = Layout(first[1], first[0])
    if layout is None:
        raise FileUnreadable("empty_file", "the file has no header row")
    out.problems = [RowProblem(*p) for p in sorted(layout.problems + problems, key=lambda p: p[0])]
    out.layout = layout
    return out


def _parse_xml(data: bytes, limits: ReadLimits) -> ParsedFile:
    try:
        records, problems, encoding = xmlfile.parse(data, limits.max_rows)
    except xmlsafe.MalformedXml as exc:
        raise MalformedXmlFile("malformed_xml", f"the XML is not well-formed: {exc}") from None
    except xmlfile.TooManyRecords:
        raise limits.too_many_rows() from None
    check_deadline(len(records))  # the document is parsed whole: look at the deadline once after
    return ParsedFile(
        records=[ParsedRow(n, r) for n, r in records],
        problems=[RowProblem(*p) for p in problems],
        encoding=encoding,
        format="xml",
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # Excel would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_rejection_report(rows: Iterable[tuple[int, str, str, str]]) -> bytes:
    """The problems as CSV (UTF-8 with BOM, so Excel opens it): row, field, reason, message."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["row", "field", "reason", "message"])
    for row, fld, reason, message in rows:
        writer.writerow([row, _cell(str(fld)), _cell(str(reason)), _cell(str(message))])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
