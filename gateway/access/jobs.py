"""The access jobs the scheduler runs: audit entries past their retention are pruned (the chain
stays verifiable from its checkpoint, the prune's mark is signed), and every five minutes a
signed checkpoint of the chain head is written when one is due (M minutes since the last and
the head moved), so a quiet hour after a burst of entries does not leave them unanchored."""

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

    def audit_checkpoint(slot: str, now: dt.datetime) -> str:
        from gateway.access.audit import head

        with db.read() as conn:
            seq, head_hash = head(conn)
        return f"entry {seq} signed" if checkpoints.after_append(seq, head_hash, now) else "not due"

    specs = [JobSpec("audit_retention", "30 3 * * *", audit_retention)]
    if checkpoints is not None:
        specs.append(JobSpec("audit_checkpoint", "*/5 * * * *", audit_checkpoint))
    return specs
