"""XLSX workbooks, read with openpyxl in read-only mode (streamed, formulas as cached values).

The records are on the first sheet, unless a sheet is named after the expected kind
(``penalty`` or 行政处罚, for instance). openpyxl reads the package's XML through
defusedxml, so a workbook cannot smuggle in entity expansion either.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook

from gateway.intake.columns import kind_of


def rows(data: bytes, kind: str | None = None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, cell values) for each row of the chosen sheet, blanks too.

    Raises what openpyxl raises for a damaged workbook (zipfile.BadZipFile, KeyError,
    openpyxl's InvalidFileException, ValueError); the caller turns those into one answer.
    """
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        if kind is not None:
            sheet = next((ws for ws in workbook.worksheets if kind_of(ws.title) == kind), sheet)
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()
