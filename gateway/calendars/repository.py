"""SQL of the calendar notices (`calendar_notices`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.engine import Connection

from gateway.domain.holidays import YearNotice, notice_from_mapping
from gateway.store.calendar_tables import calendar_notices as t


def store_notice(conn: Connection, notice: YearNotice, now: dt.datetime) -> bool:
    """Store (or replace) a year's notice; True when it replaced an earlier one."""
    replaced = conn.execute(delete(t).where(t.c.year == notice.year)).rowcount > 0
    conn.execute(insert(t).values(year=notice.year, source=notice.source, body=notice.to_dict(), loaded_at=now))
    return replaced


def load_notices(conn: Connection) -> list[YearNotice]:
    """Every stored notice. Before the first migration of a new database the table does not
    exist yet, and then no notice can have been loaded."""
    if not inspect(conn).has_table(t.name):
        return []
    return [notice_from_mapping(row.body) for row in conn.execute(select(t.c.body).order_by(t.c.year))]


def notice_loaded_at(conn: Connection, year: int) -> dt.datetime | None:
    return conn.execute(select(t.c.loaded_at).where(t.c.year == year)).scalar_one_or_none()
