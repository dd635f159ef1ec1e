"""The access job the scheduler runs: audit entries past their retention are pruned (the chain
stays verifiable from its checkpoint)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.access.audit import prune_expired
from gateway.access.settings import AccessSettings
from gateway.clock import Clock
from gateway.scheduler import JobSpec
from gateway.store.db import Database


def jobs(db: Database, clock: Clock, settings: AccessSettings, checkpoints: Any = None) -> list[JobSpec]:
    def audit_retention(slot: str, now: dt.datetime) -> str:
        return str(prune_expired(db, now, settings.audit_retention_days, checkpoints))

    return [JobSpec("audit_retention", "30 3 * * *", audit_retention)]
