"""The calendar table: the official holiday notice of a year, loaded by an operator as data.

- `calendar_notices`: one row per year (`gateway calendar load FILE`); `body` is
  `YearNotice.to_dict()` (source, holidays, make-up working days). Loading a year again
  replaces its row (a corrected notice), and every process reads the table when it starts.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from gateway.store.tables import metadata
from gateway.store.types import JsonDoc, UTCDateTime

calendar_notices = Table(
    "calendar_notices",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("source", String(200), nullable=False),
    Column("body", JsonDoc, nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
)
