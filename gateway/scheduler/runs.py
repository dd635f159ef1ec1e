"""The scheduler's SQL: `scheduled_runs`, one row per (job, slot).

A trigger only inserts the row with insert-or-ignore; a runner claims a row with
`UPDATE … SET started_at WHERE id = :id AND started_at IS NULL` and runs it once, so a double
tick, or two leaders for a moment during failover, changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, select, update

from gateway.store.publication_tables import scheduled_runs as runs
from gateway.store.sql import insert_ignore


def enqueue_run(db: Any, job: str, slot: str, now: dt.datetime) -> None:
    """Insert (job, slot) unless it is there: the only thing a trigger does."""
    with db.write() as conn:
        insert_ignore(conn, runs, [{"job": job, "slot": slot, "enqueued_at": now, "attempts": 0}], ("job", "slot"))


def waiting(db: Any, jobs: Iterable[str]) -> list[tuple[int, str, str]]:
    """Enqueued, unclaimed runs of these jobs, oldest first: (id, job, slot)."""
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(runs.c.id, runs.c.job, runs.c.slot)
            .where(runs.c.started_at.is_(None), runs.c.job.in_(list(jobs))).order_by(runs.c.id))]


def claim_run(db: Any, run_id: int, runner: str, now: dt.datetime) -> bool:
    """Take an enqueued run; only one caller ever succeeds."""
    with db.write() as conn:
        result = conn.execute(
            update(runs)
            .where(runs.c.id == run_id, runs.c.started_at.is_(None))
            .values(started_at=now, runner=runner, attempts=runs.c.attempts + 1)
        )
        return result.rowcount == 1


def finish(db: Any, run_id: int, outcome: str, detail: str | None, now: dt.datetime) -> None:
    with db.write() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=now, outcome=outcome, detail=detail))


def reclaim_abandoned(db: Any, runner: str) -> int:
    """Runs started by a leader that is gone (this process leads now) are run again."""
    with db.write() as conn:
        return conn.execute(
            update(runs)
            .where(runs.c.started_at.is_not(None), runs.c.finished_at.is_(None), runs.c.runner != runner)
            .values(started_at=None, detail="reclaimed from " + runs.c.runner)
        ).rowcount


def rerun(db: Any, job: str, slot: str, now: dt.datetime) -> None:
    """Operator: run (job, slot) again at the next runner pass (e.g. after a failure)."""
    enqueue_run(db, job, slot, now)
    with db.write() as conn:
        conn.execute(
            update(runs).where(runs.c.job == job, runs.c.slot == slot)
            .values(started_at=None, finished_at=None, outcome=None, detail="rerun requested")
        )


def prune(db: Any, before: dt.datetime) -> int:
    with db.write() as conn:
        return conn.execute(delete(runs).where(and_(runs.c.finished_at.is_not(None), runs.c.finished_at < before))
                            ).rowcount


def latest(db: Any, limit: int = 20) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)))


def of_job(db: Any, job: str) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(runs).where(runs.c.job == job).order_by(runs.c.id)))
