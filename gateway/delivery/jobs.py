"""The delivery job the scheduler runs: overdue receipts are queried again, then flagged."""

from __future__ import annotations

import datetime as dt

from gateway.clock import Clock
from gateway.delivery.destinations import DestinationRegistry
from gateway.delivery.receipts import check_overdue_receipts
from gateway.scheduler import JobSpec
from gateway.store.db import Database


def jobs(db: Database, clock: Clock, registry: DestinationRegistry) -> list[JobSpec]:
    def receipts_overdue(slot: str, now: dt.datetime) -> str:
        return str(check_overdue_receipts(db, registry, now))[:500]

    return [JobSpec("receipts_overdue", "*/5 * * * *", receipts_overdue)]
