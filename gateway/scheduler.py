"""The scheduler (调度): APScheduler triggers, (job, slot) runs, and one leader among many processes.

Jobs (China civil time, Asia/Shanghai):

=======================  ===========================  ==========================================
job                      when                         what
=======================  ===========================  ==========================================
push:<destination>       the destination's schedule   the batcher for that destination
monthly_report           1st and 2nd, 01:00           last month's list inclusions to `report_to`
                                                      (RULES.md §6: by the 2nd of each month)
policy_sweep             daily 01:00                  every callable in services.extras["sweeps"]
publication_sweep        daily 01:30                  re-plan every subject's publication items
receipts_overdue         every 5 minutes              delivery.receipts.check_overdue_receipts
retention                daily 03:30                  old scheduled_runs, services.extras["retention"]
=======================  ===========================  ==========================================

`services.extras["schedules"]` may override any of these by job name (a cron string,
"hourly", "nightly", or an interval like "30s", "5m", "2h").

Scheduled work only enqueues: a trigger inserts the row (job, slot) into `scheduled_runs`
with insert-or-ignore, where the slot is the period the run is for ('2026-11' for the
November report, '2026-11-02' for a daily job, '2026-11-22T03' for an hourly one). A runner
claims a row with `UPDATE … SET started_at WHERE id = :id AND started_at IS NULL` and runs
it once; a double tick, or two leaders for a moment during failover, changes nothing.

Leadership. On PostgreSQL any number of `gateway scheduler` processes may run: each tries
`pg_try_advisory_lock(<gateway>, hashtext(current_schema()))` on a dedicated connection
outside the pool (named `gateway-scheduler <host> pid=<pid>` in pg_stat_activity), and
the one holding it leads. A session lock dies with its connection, so when the leader dies
(even kill -9) PostgreSQL releases it and a follower, retrying every few seconds, takes
over: it enqueues each job's latest due slot (so a report missed while nobody led is still
sent), reclaims runs the dead leader had started, and starts the triggers. TCP keepalives
on the lock connection bound how long a partitioned leader keeps the lock.

On SQLite run ONE scheduler (embedded deployments are one machine): there is no advisory
lock; an exclusive `flock` on `<database>.scheduler.lock` makes a second process on the
same machine wait as a follower, and the (job, slot) rows keep even an accidental second
scheduler from running anything twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import make_url

from gateway.store.publication_tables import scheduled_runs as runs
from gateway.store.sql import insert_ignore

log = logging.getLogger("gateway.scheduler")

CHINA = ZoneInfo("Asia/Shanghai")
LOCK_NAMESPACE = 0x47570001  # first key of the advisory lock: "GW", scheduler
RUN_RETENTION_DAYS = 90
REPORT_DUE_DAY = 2  # RULES.md §6: the monthly report reaches the level above by the 2nd

DEFAULT_SCHEDULES = {
    "monthly_report": "0 1 1,2 * *",
    "policy_sweep": "0 1 * * *",
    "publication_sweep": "30 1 * * *",
    "receipts_overdue": "*/5 * * * *",
    "retention": "30 3 * * *",
}
_ALIASES = {"hourly": "0 * * * *", "nightly": "0 2 * * *", "daily": "0 2 * * *"}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


# --- triggers and slots -------------------------------------------------------------------


def parse_schedule(text: str) -> BaseTrigger:
    """A cron string (5 fields), "hourly"/"nightly"/"daily", or an interval ("30s", "5m", "2h")."""
    text = _ALIASES.get(text.strip().lower(), text.strip())
    m = _INTERVAL.match(text)
    if m:
        seconds = int(m[1]) * _UNIT[m[2]]
        if seconds <= 0:
            raise ValueError(f"schedule {text!r}: the interval must be positive")
        return IntervalTrigger(seconds=seconds, timezone=CHINA)
    try:
        return CronTrigger.from_crontab(text, timezone=CHINA)
    except ValueError as exc:
        raise ValueError(f"schedule {text!r}: {exc}") from None


def last_fire_time(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before `now` the trigger fires (cron), or the interval's bucket start."""
    now = now.astimezone(CHINA)
    if isinstance(trigger, IntervalTrigger):
        seconds = trigger.interval.total_seconds()
        epoch = now.timestamp()
        return dt.datetime.fromtimestamp(epoch - epoch % seconds, CHINA)
    for lookback in (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=32), dt.timedelta(days=400)):
        t = trigger.get_next_fire_time(None, now - lookback)
        last = None
        while t is not None and t <= now:
            last = t
            t = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
        if last is not None:
            return last
    return None


def slot_format(trigger: BaseTrigger, now: dt.datetime | None = None) -> str:
    """strftime format of a trigger's slots: as fine as its shortest gap between fires."""
    if isinstance(trigger, IntervalTrigger):
        gap = trigger.interval
    else:
        t = trigger.get_next_fire_time(None, (now or dt.datetime(2026, 1, 5, tzinfo=CHINA)).astimezone(CHINA))
        gap = dt.timedelta(days=366)
        for _ in range(24):
            if t is None:
                break
            nxt = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
            if nxt is None:
                break
            gap, t = min(gap, nxt - t), nxt
    if gap >= dt.timedelta(days=1):
        return "%Y-%m-%d"
    if gap >= dt.timedelta(hours=1):
        return "%Y-%m-%dT%H"
    if gap >= dt.timedelta(minutes=1):
        return "%Y-%m-%dT%H:%M"
    return "%Y-%m-%dT%H:%M:%S"


def periodic_slot(trigger: BaseTrigger) -> Callable[[dt.datetime], str | None]:
    fmt = slot_format(trigger)

    def slot_for(now: dt.datetime) -> str | None:
        last = last_fire_time(trigger, now)
        return last.strftime(fmt) if last else None

    return slot_for


def report_slot(trigger: BaseTrigger) -> Callable[[dt.datetime], str | None]:
    """The monthly report's slot is the month reported on: the month before the last fire."""

    def slot_for(now: dt.datetime) -> str | None:
        last = last_fire_time(trigger, now)
        if last is None:
            return None
        return (last.date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

    return slot_for


def report_due_on(month: str) -> dt.date:
    """The last day the report of `month` ('2026-11') may reach the level above: 2026-12-02."""
    first = dt.date.fromisoformat(month + "-01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=REPORT_DUE_DAY)


# --- jobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    slot_for: Callable[[dt.datetime], str | None]
    run: Callable[[Any, str, dt.datetime], str | None]  # (services, slot, now) -> a short summary


def _push(destination: str) -> Callable[[Any, str, dt.datetime], str]:
    def run(services: Any, slot: str, now: dt.datetime) -> str:
        from gateway.delivery.publication import push_cycle

        made = push_cycle(services, destination, now=now)
        return f"{len(made)} bulletin(s)"

    return run


def _monthly_report(services: Any, slot: str, now: dt.datetime) -> str:
    from gateway.delivery.publication import monthly_report

    made = monthly_report(services, slot, now=now)
    return f"{len(made)} bulletin(s)" if made else "no inclusions to report"


def _policy_sweep(services: Any, slot: str, now: dt.datetime) -> str:
    sweeps = services.extras.get("sweeps") or {}
    items = sweeps.items() if isinstance(sweeps, dict) else ((getattr(f, "__name__", repr(f)), f) for f in sweeps)
    done = []
    for name, fn in items:
        fn(services, now)
        done.append(name)
    return f"ran {', '.join(done)}" if done else "no sweeps registered"


def _publication_sweep(services: Any, slot: str, now: dt.datetime) -> str:
    from gateway.delivery.publication import publication_sweep

    return f"{publication_sweep(services, now=now)} item(s) queued"


def _receipts_overdue(services: Any, slot: str, now: dt.datetime) -> str:
    from gateway.delivery.receipts import check_overdue_receipts

    return str(check_overdue_receipts(services, now))[:500]


def _retention(services: Any, slot: str, now: dt.datetime) -> str:
    cutoff = now - dt.timedelta(days=RUN_RETENTION_DAYS)
    with services.db.write() as conn:
        gone = conn.execute(delete(runs).where(and_(runs.c.finished_at.is_not(None), runs.c.finished_at < cutoff))).rowcount
    for hook in services.extras.get("retention") or ():
        hook(services, now)
    return f"{gone} old run(s) deleted"


def build_jobs(services: Any) -> list[JobSpec]:
    """The jobs of this deployment: fixed ones plus one push cycle per scheduled destination."""
    schedules = {**DEFAULT_SCHEDULES, **(services.extras.get("schedules") or {})}
    fixed: list[tuple[str, Callable[..., Any]]] = [
        ("policy_sweep", _policy_sweep),
        ("publication_sweep", _publication_sweep),
        ("receipts_overdue", _receipts_overdue),
        ("retention", _retention),
    ]
    jobs = []
    for name, fn in fixed:
        trigger = parse_schedule(schedules[name])
        jobs.append(JobSpec(name, trigger, periodic_slot(trigger), fn))
    from gateway.delivery import publication

    if publication.report_destination(services):
        trigger = parse_schedule(schedules["monthly_report"])
        jobs.append(JobSpec("monthly_report", trigger, report_slot(trigger), _monthly_report))
    else:
        log.warning("no report_to destination: the monthly report (RULES.md §6) is not scheduled")
    registry = publication.destinations(services)
    for dest in registry.names():
        schedule = schedules.get(f"push:{dest}") or registry.get(dest).schedule
        if schedule:
            trigger = parse_schedule(schedule)
            jobs.append(JobSpec(f"push:{dest}", trigger, periodic_slot(trigger), _push(dest)))
    return jobs


# --- runs ---------------------------------------------------------------------------------


def default_runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_run(db: Any, job: str, slot: str, now: dt.datetime) -> None:
    """Insert (job, slot) unless it is there: the only thing a trigger does."""
    with db.write() as conn:
        insert_ignore(conn, runs, [{"job": job, "slot": slot, "enqueued_at": now, "attempts": 0}], ("job", "slot"))


def claim_run(db: Any, run_id: int, runner: str, now: dt.datetime) -> bool:
    """Take an enqueued run; only one caller ever succeeds."""
    with db.write() as conn:
        result = conn.execute(
            update(runs)
            .where(runs.c.id == run_id, runs.c.started_at.is_(None))
            .values(started_at=now, runner=runner, attempts=runs.c.attempts + 1)
        )
        return result.rowcount == 1


def _finish(db: Any, run_id: int, outcome: str, detail: str | None, now: dt.datetime) -> None:
    with db.write() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=now, outcome=outcome, detail=detail))


def run_pending(services: Any, jobs: Iterable[JobSpec], runner: str, *, now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Run every enqueued, unclaimed run of a known job, oldest first; (job, slot, outcome) each."""
    by_name = {j.name: j for j in jobs}
    with services.db.read() as conn:
        waiting = list(
            conn.execute(
                select(runs.c.id, runs.c.job, runs.c.slot)
                .where(runs.c.started_at.is_(None), runs.c.job.in_(list(by_name)))
                .order_by(runs.c.id)
            )
        )
    done = []
    for run_id, job, slot in waiting:
        started = now or services.clock.now()
        if not claim_run(services.db, run_id, runner, started):
            continue
        try:
            detail = by_name[job].run(services, slot, started)
            outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the scheduler goes on
            log.exception("scheduled run %s %s failed", job, slot)
            detail, outcome = f"{type(exc).__name__}: {exc}"[:2000], "failed"
        _finish(services.db, run_id, outcome, detail, now or services.clock.now())
        done.append((job, slot, outcome))
    return done


def tick(services: Any, job: JobSpec, runner: str, *, now: dt.datetime | None = None, run: bool = True) -> str | None:
    """What a trigger does: enqueue the job's due slot, then run what is pending. Returns the slot."""
    now = now or services.clock.now()
    slot = job.slot_for(now)
    if slot is None:
        return None
    enqueue_run(services.db, job.name, slot, now)
    if run:
        run_pending(services, [job], runner, now=now)
    return slot


def reclaim_abandoned(services: Any, runner: str, now: dt.datetime) -> int:
    """Runs started by a leader that is gone (this process leads now) are run again."""
    with services.db.write() as conn:
        return conn.execute(
            update(runs)
            .where(runs.c.started_at.is_not(None), runs.c.finished_at.is_(None), runs.c.runner != runner)
            .values(started_at=None, detail="reclaimed from " + runs.c.runner)
        ).rowcount


def rerun(services: Any, job: str, slot: str, now: dt.datetime) -> None:
    """Operator: run (job, slot) again at the next runner pass (e.g. after a failure)."""
    enqueue_run(services.db, job, slot, now)
    with services.db.write() as conn:
        conn.execute(
            update(runs).where(runs.c.job == job, runs.c.slot == slot)
            .values(started_at=None, finished_at=None, outcome=None, detail="rerun requested")
        )


# --- leadership ---------------------------------------------------------------------------


class PostgresLeadership:
    """`pg_try_advisory_lock` on a dedicated connection (not from the pool)."""

    def __init__(self, url: str, runner: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": f"gateway-scheduler {runner.replace(':', ' pid=')}"[:63],
                "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                "connect_timeout": 5,
            },
        )
        self.conn: Any = None

    def _sql(self, statement: str) -> Any:
        from sqlalchemy import text

        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn.execute(text(statement), {"ns": LOCK_NAMESPACE}).scalar()

    def acquire(self) -> bool:
        try:
            return bool(self._sql("SELECT pg_try_advisory_lock(:ns, hashtext(current_schema()))"))
        except Exception:  # noqa: BLE001 - the database is away: not leading, try again later
            log.warning("scheduler: cannot reach PostgreSQL for the leader lock", exc_info=True)
            self._drop()
            return False

    def held(self) -> bool:
        try:
            return bool(
                self._sql(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                    " AND classid = (:ns)::oid AND objsubid = 2 AND granted"
                )
            )
        except Exception:  # noqa: BLE001 - connection lost: so is the lock
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # it may be dead already
                self.conn.close()
            self.conn = None

    def release(self) -> None:
        self._drop()  # closing the session releases its advisory locks
        self.engine.dispose()


class FileLeadership:
    """SQLite: an exclusive flock beside the database file (one machine, one scheduler)."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database or ":memory:"
        self.path = Path(database + ".scheduler.lock") if database != ":memory:" else None
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.path is None or self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def leadership_for(db: Any, runner: str) -> PostgresLeadership | FileLeadership:
    return FileLeadership(db.url) if db.is_sqlite else PostgresLeadership(db.url, runner)


# --- the process --------------------------------------------------------------------------


class Scheduler:
    """Leader election, and while leading: APScheduler triggers that enqueue and run."""

    def __init__(
        self,
        services: Any,
        *,
        jobs: list[JobSpec] | None = None,
        retry_seconds: float = 5.0,
        runner: str | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.services = services
        self.jobs = jobs if jobs is not None else build_jobs(services)
        self.retry_seconds = retry_seconds
        self.runner = runner or default_runner_id()
        self.announce = announce or (lambda msg: log.info("%s", msg))
        self.leadership = leadership_for(services.db, self.runner)
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
        now = self.services.clock.now()
        try:
            reclaimed = reclaim_abandoned(self.services, self.runner, now)
            if reclaimed:
                self.announce(f"scheduler {self.runner}: reclaimed {reclaimed} run(s) of the previous leader")
            for job in self.jobs:  # catch up: the latest due slot of every job
                tick(self.services, job, self.runner, now=now, run=False)
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

    def _fire(self, job: JobSpec) -> None:
        if self.leading:
            tick(self.services, job, self.runner)

    def _run_pending(self) -> None:
        if self.leading:
            run_pending(self.services, self.jobs, self.runner)


def start_scheduler(services: Any, **kw: Any) -> Scheduler:
    """Run the scheduler in this process (background thread); `gateway run` calls this."""
    scheduler = Scheduler(services, **kw).start()
    services.extras["scheduler"] = scheduler
    return scheduler


def stop_scheduler(services: Any) -> None:
    scheduler = services.extras.pop("scheduler", None)
    if scheduler is not None:
        scheduler.stop()


def run_hook(services: Any) -> None:
    """For `services.extras["run_hooks"]`: start the in-process scheduler under `gateway run`."""
    start_scheduler(services)
