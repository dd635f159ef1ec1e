"""The change-feed consumer (变更处理): claims changed subjects in batches and decides each once.

    claim (one statement, its own short transaction)
      → one transaction for the batch: load the snapshots (a few queries), run the pipeline
        (policy step, publication step) for each subject, write what they gathered
        (decisions, standings, publication items: one executemany per table and statement
        for the batch, `gateway.store.sql.Deferred`), delete the decided subjects' feed rows
      → when anything in it failed, roll it all back and decide the batch again carefully:
        each subject inside a SAVEPOINT with its writes made at once; a subject that raises
        is rolled back to its savepoint and its failure recorded (retried with backoff,
        quarantined after `max_attempts`)
      → commit

A crash anywhere before the commit leaves the rows leased; when the lease expires the rows
are claimed again, one by one (a subject that failed or whose consumer died is a suspect,
decided alone, so it cannot take a batch down twice). Everything the pipeline writes is
idempotent, and the batch commits with the deletion of its rows, so a replay leaves what one
run leaves. A consumer that lost a lease (it stalled past it and another took the row) rolls
its whole batch back.

`gateway run` runs one in a thread; `gateway worker` runs one beside the delivery worker;
on PostgreSQL any number claim side by side (SKIP LOCKED); on SQLite the write lock
serialises them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from gateway.changes import feed
from gateway.clock import Clock, china_today
from gateway.store.db import Database
from gateway.store.sql import Deferred
from gateway.subjects import Snapshot, load_snapshots

log = logging.getLogger("gateway.changes")


class Pipeline(Protocol):
    """What the consumer runs for each subject (composed in `gateway.bootstrap`)."""

    def preload(self, conn: Connection, snapshots: dict[int, Snapshot]) -> Any: ...

    def apply(self, conn: Connection, snapshot: Snapshot, as_of: dt.date, now: dt.datetime, preloaded: Any,
              writes: Deferred | None) -> Any: ...


class LostLease(Exception):
    """Another consumer took over some of this batch's rows: the batch is rolled back."""


class _Careful(Exception):
    """A fast batch failed (a subject raised, or its gathered writes were refused): it is
    rolled back and decided again carefully."""


@dataclass
class Batch:
    claimed: int = 0
    done: int = 0
    results: dict[int, Any] = field(default_factory=dict)  # subject id → what the pipeline returned
    failed: dict[int, str] = field(default_factory=dict)  # subject id → error
    quarantined: list[int] = field(default_factory=list)
    lost: bool = False


@dataclass
class ConsumerSettings:
    batch_size: int = 200
    lease_seconds: float = 60.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    backoff_cap_seconds: float = 300.0
    poll_seconds: float = 0.2


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Consumer:
    def __init__(self, db: Database, clock: Clock, pipeline: Pipeline, settings: ConsumerSettings | None = None, *,
                 worker_id: str | None = None, on_batch: Callable[[Batch], None] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.pipeline = pipeline
        self.settings = settings or ConsumerSettings()
        self.worker_id = worker_id or default_worker_id()
        self.on_batch = on_batch
        self.counters = {"batches": 0, "decided": 0, "failed": 0, "quarantined": 0, "lost": 0}

    # --- one batch ----------------------------------------------------------------------

    def run_once(self, *, as_of: dt.date | None = None) -> Batch:
        """Claim what is due (a suspect alone, else a batch of fresh rows) and decide it."""
        now = self.clock.now()
        s = self.settings
        with self.db.write() as conn:
            abandoned = feed.quarantine_abandoned(conn, now=now, max_attempts=s.max_attempts)
            claims = feed.claim(conn, worker=self.worker_id, limit=1, now=now, lease_seconds=s.lease_seconds,
                                suspects=True)
            if not claims:
                claims = feed.claim(conn, worker=self.worker_id, limit=s.batch_size, now=now,
                                    lease_seconds=s.lease_seconds)
        if abandoned:
            log.error("change feed: %d subject(s) quarantined: their consumer died deciding them %d times",
                      len(abandoned), s.max_attempts)
            self.counters["quarantined"] += len(abandoned)
        batch = self.process(claims, as_of=as_of, claimed_at=now) if claims else Batch()
        batch.quarantined[:0] = abandoned
        return batch

    def process(self, claims: list[feed.Claim], *, as_of: dt.date | None = None,
                claimed_at: dt.datetime | None = None) -> Batch:
        batch = Batch(claimed=len(claims))
        claimed_at = claimed_at or self.clock.now()
        try:
            try:
                with self.db.write() as conn:
                    self._decide(conn, claims, batch, as_of, claimed_at, careful=len(claims) == 1)
            except _Careful as exc:
                # a subject raised, or the database refused the batch's gathered writes: it all
                # rolled back; decide the batch again with each subject inside its own savepoint
                # and its writes made at once, so that failure is the subject's alone
                log.info("consumer %s: %d subject(s) decided again one by one (%s: %s)", self.worker_id, len(claims),
                         type(exc.__cause__).__name__, exc.__cause__)
                batch = Batch(claimed=len(claims))
                with self.db.write() as conn:
                    self._decide(conn, claims, batch, as_of, claimed_at, careful=True)
        except LostLease:
            batch.lost = True
            batch.results.clear()
            self.counters["lost"] += 1
            log.warning("consumer %s: lost the lease of part of a batch; it was rolled back", self.worker_id)
        except DBAPIError:
            # the database went away mid-batch: give the leases back so the rows are tried
            # again at once (the batch rolled back; nothing of it was written)
            log.warning("consumer %s: database error deciding %d subject(s); released", self.worker_id, len(claims),
                        exc_info=True)
            try:
                with self.db.write() as conn:
                    feed.release(conn, claims, worker=self.worker_id, now=self.clock.now())
            except DBAPIError:
                pass  # the leases expire on their own
            raise
        self.counters["batches"] += 1
        self.counters["decided"] += batch.done
        self.counters["failed"] += len(batch.failed)
        self.counters["quarantined"] += len(batch.quarantined)
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch

    def _decide(self, conn: Connection, claims: list[feed.Claim], batch: Batch, as_of: dt.date | None,
                claimed_at: dt.datetime, *, careful: bool) -> None:
        """Decide the claimed subjects in `conn`'s transaction. Fast (the default for a batch):
        no savepoints, and the decisions, standings and items gathered and written once for
        the batch; any failure raises `_Careful`, and the caller rolls back and decides the
        batch again carefully: a savepoint and immediate writes per subject, a failure
        recorded against its subject alone."""
        now = self.clock.now()
        day = as_of or china_today(self.clock)
        snapshots = load_snapshots(conn, [c.subject_id for c in claims])
        preloaded = self.pipeline.preload(conn, snapshots)
        writes = None if careful else Deferred()
        decided = []
        for claim in claims:
            snap = snapshots.get(claim.subject_id)
            if snap is None:  # the subject is gone: nothing to decide
                decided.append(claim)
                continue
            if not careful:
                try:
                    batch.results[claim.subject_id] = self.pipeline.apply(conn, snap, day, now, preloaded, writes)
                except Exception as exc:
                    raise _Careful() from exc
                decided.append(claim)
                continue
            savepoint = conn.begin_nested()
            try:
                batch.results[claim.subject_id] = self.pipeline.apply(conn, snap, day, now, preloaded, None)
                savepoint.commit()
                decided.append(claim)
            except Exception as exc:  # noqa: BLE001 - one subject's failure is its own
                savepoint.rollback()
                self._failed(conn, claim, snap, exc, now, batch)
        if writes is not None:
            try:
                writes.flush(conn)
            except DBAPIError as exc:
                raise _Careful() from exc
        lost = feed.complete(conn, decided, worker=self.worker_id, claimed_at=claimed_at, now=now)
        if lost:
            raise LostLease(lost)
        batch.done = len(decided)

    def _failed(self, conn: Connection, claim: feed.Claim, snap: Snapshot, exc: Exception, now: dt.datetime,
                batch: Batch) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("change feed: deciding subject %s (%s) failed (attempt %d): %s", claim.subject_id,
                    snap.key, claim.attempts, error)
        log.debug("%s", "".join(traceback.format_exception(exc)))
        retry_in = min(self.settings.backoff_cap_seconds,
                       self.settings.backoff_seconds * 2 ** max(0, claim.attempts - 1))
        state = feed.fail(conn, claim, worker=self.worker_id, now=now, error=error,
                          max_attempts=self.settings.max_attempts, retry_in=retry_in)
        if state is None:
            raise LostLease(claim.subject_id) from None
        batch.failed[claim.subject_id] = error
        if state == feed.QUARANTINED:
            batch.quarantined.append(claim.subject_id)
            log.error("change feed: subject %s (%s) quarantined after %d attempts: %s", claim.subject_id,
                      snap.key, claim.attempts, error)

    # --- draining -------------------------------------------------------------------------

    def drain(self, *, as_of: dt.date | None = None, timeout: float | None = None) -> Batch:
        """Decide until nothing is due (rows in backoff are left for later); the merged result."""
        total = Batch()
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            batch = self.run_once(as_of=as_of)
            _merge(total, batch)
            if not batch.claimed and not batch.quarantined:
                break
        return total

    def decide_now(self, subject_ids: Iterable[int], *, as_of: dt.date | None = None, wait_seconds: float = 30.0
                   ) -> Batch:
        """Decide these subjects' pending changes now (an operator's action needs them current):
        their rows are claimed whatever their backoff; rows another consumer holds are waited
        for until it is done with them."""
        ids = sorted(set(subject_ids))
        total = Batch()
        deadline = time.monotonic() + wait_seconds
        while ids:
            for i in range(0, len(ids), self.settings.batch_size):
                now = self.clock.now()
                with self.db.write() as conn:
                    claims = feed.claim_subjects(conn, ids[i:i + self.settings.batch_size], worker=self.worker_id,
                                                 now=now, lease_seconds=self.settings.lease_seconds)
                if claims:
                    _merge(total, self.process(claims, as_of=as_of, claimed_at=now))
            with self.db.read() as conn:
                rows = feed.rows_for(conn, ids)
            ids = [sid for sid, row in rows.items()
                   if row.state == feed.PENDING and sid not in total.failed and (row.lease_owner is not None
                                                                                  or sid not in total.results)]
            if not ids or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        return total

    # --- the loop ---------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        log.info("change-feed consumer %s started", self.worker_id)
        backoff = 0.1
        while not stop.is_set():
            try:
                batch = self.run_once()
                backoff = 0.1
            except DBAPIError as exc:
                log.warning("consumer %s: database unavailable (%s); retrying in %.1fs", self.worker_id,
                            type(exc).__name__, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not batch.claimed:
                stop.wait(self.settings.poll_seconds)
        log.info("change-feed consumer %s stopped: %s", self.worker_id, self.counters)

    def start_thread(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="change-consumer", daemon=True)
        thread.start()
        return thread, stop


def _merge(total: Batch, batch: Batch) -> None:
    total.claimed += batch.claimed
    total.done += batch.done
    total.results.update(batch.results)
    total.failed.update(batch.failed)
    total.quarantined.extend(batch.quarantined)
    total.lost = total.lost or batch.lost
