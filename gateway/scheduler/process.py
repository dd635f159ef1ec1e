"""The scheduler process (调度): jobs registered by the capabilities, (job, slot) runs, one leader.

The scheduler imports no capability: `gateway.bootstrap` collects the `JobSpec`s each one
registers (policy: the daily sweep; publication: a push cycle per scheduled destination and
the monthly report; delivery: overdue receipts; access: audit retention) and hands them over.

Scheduled work only enqueues: a trigger inserts the row (job, slot) (`runs.enqueue_run`),
then the leader's runner claims each enqueued row once and runs it. Leadership: see
`gateway.scheduler.leadership`. On PostgreSQL run as many `gateway scheduler` processes as
you like; on SQLite run one.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from gateway.scheduler import runs
from gateway.scheduler.leadership import leadership_for
from gateway.scheduler.triggers import CHINA, parse_schedule, periodic_slot, report_slot

log = logging.getLogger("gateway.scheduler")

RUN_RETENTION_DAYS = 90


@dataclass(frozen=True)
class JobSpec:
    """A job a capability registers: its name, default schedule and what a run does.

    `run(slot, now)` returns a short summary (stored with the run). `slots` is "periodic"
    (the latest fire) or "previous_month" (the month a report is for)."""

    name: str
    schedule: str
    run: Callable[[str, dt.datetime], str | None]
    slots: str = "periodic"


@dataclass(frozen=True)
class Job:
    """A JobSpec with its trigger resolved (the schedule, or a deployment's override)."""

    name: str
    trigger: BaseTrigger
    slot_for: Callable[[dt.datetime], str | None]
    run: Callable[[str, dt.datetime], str | None]


def resolve(specs: Iterable[JobSpec], overrides: Mapping[str, str] | None = None) -> list[Job]:
    """Triggers for the specs; `overrides` (setting `schedules`) replaces a schedule by job name.
    A bad schedule raises ValueError naming the job."""
    out = []
    for spec in specs:
        text = (overrides or {}).get(spec.name) or spec.schedule
        try:
            trigger = parse_schedule(text)
        except ValueError as exc:
            raise ValueError(f"job {spec.name}: {exc}") from None
        slot_for = report_slot(trigger) if spec.slots == "previous_month" else periodic_slot(trigger)
        out.append(Job(spec.name, trigger, slot_for, spec.run))
    return out


def retention_job(db: Any) -> JobSpec:
    """The scheduler's own housekeeping: finished runs older than RUN_RETENTION_DAYS go."""

    def run(slot: str, now: dt.datetime) -> str:
        return f"{runs.prune(db, now - dt.timedelta(days=RUN_RETENTION_DAYS))} old run(s) deleted"

    return JobSpec("scheduler_retention", "30 3 * * *", run)


def default_runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_pending(db: Any, clock: Any, jobs: Iterable[Job], runner: str, *, now: dt.datetime | None = None
                ) -> list[tuple[str, str, str]]:
    """Run every enqueued, unclaimed run of a known job, oldest first; (job, slot, outcome) each."""
    by_name = {j.name: j for j in jobs}
    done = []
    for run_id, job, slot in runs.waiting(db, by_name):
        started = now or clock.now()
        if not runs.claim_run(db, run_id, runner, started):
            continue
        try:
            detail = by_name[job].run(slot, started)
            outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the scheduler goes on
            log.exception("scheduled run %s %s failed", job, slot)
            detail, outcome = f"{type(exc).__name__}: {exc}"[:2000], "failed"
        runs.finish(db, run_id, outcome, detail if detail is None else str(detail)[:2000], now or clock.now())
        done.append((job, slot, outcome))
    return done


def tick(db: Any, clock: Any, job: Job, runner: str, *, now: dt.datetime | None = None, run: bool = True) -> str | None:
    """What a trigger does: enqueue the job's due slot, then run what is pending. Returns the slot."""
    now = now or clock.now()
    slot = job.slot_for(now)
    if slot is None:
        return None
    runs.enqueue_run(db, job.name, slot, now)
    if run:
        run_pending(db, clock, [job], runner, now=now)
    return slot


def run_once(db: Any, clock: Any, jobs: list[Job], runner: str | None = None) -> list[tuple[str, str, str]]:
    """Enqueue the due slot of every job and run what is pending (`gateway scheduler --once`)."""
    runner = runner or default_runner_id()
    for job in jobs:
        tick(db, clock, job, runner, run=False)
    return run_pending(db, clock, jobs, runner)


class Scheduler:
    """Leader election, and while leading: APScheduler triggers that enqueue and run."""

    def __init__(
        self,
        db: Any,
        clock: Any,
        jobs: list[Job],
        *,
        retry_seconds: float = 5.0,
        runner: str | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.jobs = jobs
        self.retry_seconds = retry_seconds
        self.runner = runner or default_runner_id()
        self.announce = announce or (lambda msg: log.info("%s", msg))
        self.leadership = leadership_for(db, self.runner)
        self.leading = False
        self._aps: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # leadership loop
    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self.run_forever, name="gateway-scheduler", daemon=True)
        self._thread.start()
        return self

    def run_forever(self) -> None:
        self.announce(f"scheduler {self.runner}: started, {len(self.jobs)} job(s): {', '.join(j.name for j in self.jobs)}")
        while not self._stop.is_set():
            if not self.leading:
                if self.leadership.acquire():
                    self._elected()
                elif not self._stop.is_set():
                    log.debug("scheduler %s: following", self.runner)
            elif not self.leadership.held():
                self._deposed()
            self._stop.wait(self.retry_seconds)
        self._deposed()
        self.leadership.release()

    def stop(self, timeout: float | None = 30) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _elected(self) -> None:
        self.leading = True
        self.announce(f"scheduler {self.runner}: leading")
        now = self.clock.now()
        try:
            reclaimed = runs.reclaim_abandoned(self.db, self.runner)
            if reclaimed:
                self.announce(f"scheduler {self.runner}: reclaimed {reclaimed} run(s) of the previous leader")
            for job in self.jobs:  # catch up: the latest due slot of every job
                tick(self.db, self.clock, job, self.runner, now=now, run=False)
        except Exception:  # noqa: BLE001 - the triggers still start; the runner retries
            log.exception("scheduler: catch-up after election failed")
        aps = BackgroundScheduler(
            timezone=CHINA, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )
        for job in self.jobs:
            aps.add_job(self._fire, job.trigger, args=[job], id=job.name, name=job.name)
        aps.add_job(self._run_pending, IntervalTrigger(seconds=max(self.retry_seconds, 1.0)), id="_runner",
                    next_run_time=dt.datetime.now(CHINA))
        aps.start()
        self._aps = aps

    def _deposed(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self.leading:
            self.leading = False
            self.announce(f"scheduler {self.runner}: no longer leading")

    def _fire(self, job: Job) -> None:
        if self.leading:
            tick(self.db, self.clock, job, self.runner)

    def _run_pending(self) -> None:
        if self.leading:
            run_pending(self.db, self.clock, self.jobs, self.runner)
