"""The example files' dates moved nearer to today, so the demo's on-time rate means something.

The examples were written with dates of their own (the latest 双公示 decision: `ANCHOR`). The
demo shifts every date in them by the same number of days, so that decision falls on yesterday:
intervals (validity periods, the 365 days between accidents) stay as written, the freshest
records are published within their 7-working-day deadline and the oldest are past it. A date
no calendar has (the deliberate 30 February) is left as it is, so it is still refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

ANCHOR = dt.date(2026, 11, 12)  # the latest 双公示 decision date in examples/
_DATE = re.compile(r"(?<!\d)(\d{4})(-|/|年)(\d{1,2})(-|/|月)(\d{1,2})(日?)(?!\d)")


def offset_for(today: dt.date) -> int:
    """Days to add so that `ANCHOR` becomes the day before `today`."""
    return (today - dt.timedelta(days=1) - ANCHOR).days


def shift_text(text: str, days: int) -> str:
    def move(m: re.Match[str]) -> str:
        try:
            day = dt.date(int(m[1]), int(m[3]), int(m[5]))
        except ValueError:
            return m[0]  # not a real day: left for the importer to refuse
        new = day + dt.timedelta(days=days)
        if m[2] == "年":
            return f"{new.year}年{new.month}月{new.day}日" if m[6] else f"{new.year}年{new.month}月{new.day}"
        if m[2] == "/":
            return f"{new.year}/{new.month:02d}/{new.day:02d}"
        return new.isoformat()

    return _DATE.sub(move, text)


def shift_value(value: Any, days: int) -> Any:
    """Strings, lists and dicts (an intake JSON batch) with their dates shifted."""
    if isinstance(value, str):
        return shift_text(value, days)
    if isinstance(value, list):
        return [shift_value(v, days) for v in value]
    if isinstance(value, dict):
        return {k: shift_value(v, days) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(days=days)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=days)
    return value


def shift_file(name: str, content: bytes, days: int) -> bytes:
    """An example file (CSV in any encoding the importer reads, XML, XLSX) with its dates shifted."""
    if not days:
        return content
    suffix = name.rsplit(".", 1)[-1].lower()
    if suffix == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(content))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        cell.value = shift_value(cell.value, days)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    for encoding in ("utf-8", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return shift_text(text, days).encode(encoding)
    return content
