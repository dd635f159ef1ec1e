"""The rejection report as a workbook mirroring the uploaded sheet (openpyxl).

The clerk gets back the sheet as uploaded, each bad cell filled red with a comment saying what
is wrong and, where known, what was probably meant; a bad header cell the same; and a last
sheet listing every problem (also those without a cell, such as a missing column). Fixed and
uploaded again, the same workbook is read as before: the records are on its first sheet (or the
one named after the kind), and rows already stored answer `duplicate`.

A CSV upload is mirrored into a new workbook whose cells are the file's text as it was read
(text cells, so leading zeros and long codes stay as typed).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from gateway.intake import csvfile
from gateway.intake.columns import kind_of
from gateway.intake.reports import WORDS, Language, ReportLine

BAD = PatternFill("solid", fgColor="FFC7CE")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# openpyxl holds a whole workbook in memory to edit it (tens of times the file's size): larger
# files get the CSV report instead
MAX_ROWS = 20_000


def _sheet_of(data: bytes, fmt: str, default_kind: str | None):  # noqa: ANN202
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(data))
        sheet = workbook.worksheets[0]
        kind = kind_of(default_kind) if default_kind else None
        if kind is not None:
            sheet = next((ws for ws in workbook.worksheets if kind_of(ws.title) == kind), sheet)
        return workbook, sheet
    text, _ = csvfile.decode(data)
    workbook = Workbook()
    sheet = workbook.active
    for number, cells in csvfile.rows(text):
        for column, value in enumerate(cells, start=1):
            if value != "":
                _text(sheet.cell(number, column), value)
    return workbook, sheet


def _text(cell, value: str) -> None:  # noqa: ANN001
    cell.value = value
    cell.data_type = "s"  # never a formula, whatever it starts with
    cell.number_format = "@"


def mirror(data: bytes, fmt: str, lines: Sequence[ReportLine], lang: Language = "zh",
           default_kind: str | None = None) -> bytes:
    """The uploaded sheet with its bad cells marked and commented, plus the list of problems."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError("only CSV and XLSX uploads are mirrored; use the CSV report for XML")
    workbook, sheet = _sheet_of(data, fmt, default_kind)
    notes: dict[tuple[int, int], list[str]] = {}
    for line in lines:
        if line.column_index is not None and line.row >= 1:
            notes.setdefault((line.row, line.column_index + 1), []).append(f"[{line.reason}] {line.message}")
    for (row, column), texts in notes.items():
        cell = sheet.cell(row, column)
        cell.fill = BAD
        cell.comment = Comment("\n".join(texts), "gateway", width=320, height=40 + 30 * len(texts))
    listing = workbook.create_sheet(WORDS["sheet"][lang])
    listing.append(WORDS["headings"][lang])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for number, line in enumerate(lines, start=2):
        for column, value in enumerate(line.cells(), start=1):
            if isinstance(value, str):
                _text(listing.cell(number, column), value)
            else:
                listing.cell(number, column, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
