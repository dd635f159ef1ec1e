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

_ATOMS = (str, int, float, bool, type(None))
_PLAIN = frozenset(_ATOMS)  # exact types: `type(v) in _PLAIN` spares a call per atom


def jsonable(value: Any) -> Any:
    """A JSON-able copy of a decision value (dataclasses, dates, enums, decimals, tuples)."""
    if isinstance(value, _ATOMS):  # most values: answered first (the consumer serialises millions)
        return value
    if isinstance(value, Output):
        return value.to_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return [v if type(v) in _PLAIN else jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else jsonable(v) for k, v in value.items()}
    return value


def field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, computed once per class (`dataclasses.fields` builds a tuple
    of Field objects on every call)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


class Output:
    """Mixin for frozen decision dataclasses: `to_dict()` gives JSON-able dicts."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for name in field_names(type(self)):
            v = getattr(self, name)
            out[name] = v if type(v) in _PLAIN else jsonable(v)
        return out
