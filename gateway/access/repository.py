"""The access capability's SQL on `eligibility_reports` (keys and the audit chain keep their
own statements in `keys` and `audit`, the modules that own those tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from gateway.store.access_tables import eligibility_reports


def store_report(conn: Connection, *, report_id: str, partner_id: int, key_id: str, purpose: str,
                 reference: str | None, counts: dict[str, int], xml: bytes, now: dt.datetime) -> None:
    conn.execute(eligibility_reports.insert().values(
        report_id=report_id, partner_id=partner_id, key_id=key_id, purpose=purpose, reference=reference,
        counts=counts, xml=xml, created_at=now))


def fetch_report(conn: Connection, report_id: str) -> Any | None:
    return conn.execute(select(eligibility_reports).where(eligibility_reports.c.report_id == report_id)).first()
