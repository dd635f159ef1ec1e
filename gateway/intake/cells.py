"""Cells: how one spreadsheet or CSV cell becomes the value of a record field.

Cells become JSON values only where the reading is unambiguous: Excel numbers in integer
columns become ints, dates become ISO strings, 是/否 become booleans. Anything else goes on
as text, so `validate_data` reports every bad field of a row at once with the API's reason
codes. Only cells that cannot be read at all (Excel error values such as ``#N/A``, a
time of day in a date column) raise `CellError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from gateway.intake.names import _LEGACY_STATUS, _VALUE_ALIASES, ACTION_VALUES, FIELD_TYPES, key

Coercer = Callable[[Any], Any]


class CellError(ValueError):
    """A cell that cannot be read as any value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_BOOLS = {
    "是": True, "否": False, "true": True, "false": False, "1": True, "0": False,
    "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
}  # fmt: skip
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA"}
)

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LIST_SPLIT = re.compile(r"[;；,，、|\n]")
_WAN = Decimal("0.0001")  # 元 -> 万元


def text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _int(value: Any) -> Any:
    if isinstance(value, int):  # bool included: validation says it is not a number
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        s = value.replace(",", "") if _THOUSANDS.match(value) else value
        return int(s.split(".")[0]) if _INT.match(s) else value
    return text(value)


def _decimal(value: Any, scale: Decimal | None = None) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        s = value.replace(",", "") if _THOUSANDS.match(value) else value
        try:
            number = Decimal(s)
        except InvalidOperation:
            return value
    else:
        return text(value)
    if not number.is_finite():
        return value
    if scale is not None:
        number *= scale
    return format(number.normalize(), "f")


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        raise CellError("bad_date", f"{value.isoformat()} is a time of day, not a date")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            value = str(int(value))  # 20250103 typed as a number
        elif 1 <= value < 2958466:  # an Excel serial day number without a date format
            return from_excel(value).date().isoformat()
        else:
            return value
    if isinstance(value, str):
        m = _DATE.match(value) or _COMPACT_DATE.match(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return value  # validate_data says which date is impossible
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        b = _BOOLS.get(value.lower())
        return value if b is None else b
    return value


def _list(value: Any) -> Any:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [p.strip() for p in _LIST_SPLIT.split(value) if p.strip()]
    return [text(value)]


def _action(value: Any) -> str:
    action = ACTION_VALUES.get(key(text(value)))
    if action is None:
        raise CellError("not_in_code_list", f"action {value!r} is not publish (发布) or withdraw (撤回)")
    return action


def _legacy_status(value: Any) -> str:
    action = _LEGACY_STATUS.get(key(text(value)))
    if action is None:
        raise CellError("not_in_code_list", f"status {value!r} is not 0 正常, 1 撤销, 2 异议 or 3 其他")
    return action


def coercer(kind: str, field: str, scale: Decimal | None = None) -> Coercer:
    """How a cell becomes the value of `field` of a record of `kind`."""
    kind_type = FIELD_TYPES.get(kind, {}).get(field, "text")
    if kind_type == "decimal":
        return (lambda v: _decimal(v, scale)) if scale is not None else _decimal
    if kind_type == "text" and (aliases := _VALUE_ALIASES.get((kind, field))):
        return lambda v: aliases.get(key(t), t) if isinstance(t := text(v), str) else t
    return {"int": _int, "date": _date, "bool": _bool, "list": _list}.get(kind_type, text)


def clean(value: Any) -> Any:
    """A cell without surrounding space; None when empty; CellError when unreadable."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if value in _EXCEL_ERRORS:
            raise CellError("unreadable_cell", f"the cell holds the spreadsheet error {value}")
    return value

