"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out, on both databases.

    SQLite has no timezone type, so naive values read back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not dt.UTC:  # the clock's own values are UTC already (one per stored row)
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class JsonText(str):
    """A JSON document already serialized, stored as it is: the engines' `json_serializer`
    (`serialize_json`) hands it to the driver without encoding the value a second time.

    An upload's record data is serialized once, canonically, for its content hash
    (`gateway.intake.prepare`); storing that text saves a second `json.dumps` a record."""

    __slots__ = ()


def serialize_json(value: Any) -> str:
    """SQLAlchemy's `json_serializer` on both databases: `json.dumps`, as SQLAlchemy's own
    default, except for a `JsonText`, which is JSON already."""
    return value if value.__class__ is JsonText else json.dumps(value)
