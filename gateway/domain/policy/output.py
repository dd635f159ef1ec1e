"""Decision values as JSON: the one `to_dict()` every decision dataclass shares.

The API returns decisions verbatim, so the conversion lives here, once: dates become ISO
strings, enums their value, decimals strings, tuples lists, nested decisions dicts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-able copy of a decision value (dataclasses, dates, enums, decimals, tuples)."""
    if isinstance(value, Output):
        return value.to_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


class Output:
    """Mixin for frozen decision dataclasses: `to_dict()` gives JSON-able dicts."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
