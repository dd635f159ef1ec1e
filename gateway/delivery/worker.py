"""The delivery worker: the loop that moves the outbox (the outbox owns the SQL).

One asyncio loop per process:

1. every `reap_interval`: return deliveries with expired leases to `pending`;
2. for each enabled destination whose breaker admits it (closed: up to `concurrency`
   minus what is in flight, and no more than the rate limiter's tokens; open period over:
   one probe): claim due deliveries in ONE statement (with a lease) and start a send task
   for each;
3. a send task waits for a rate-limit token, pushes through the adapter, verifies a
   synchronous receipt, and queues the result (its concurrency slot is free from then on;
   the delivery stays leased by this worker until the result is recorded);
4. the flusher writes queued results in one transaction per batch (`results.apply_results`:
   attempts, receipts with per-item outcomes, new states, retry times, breaker counts).

Database calls run on one thread beside the loop, so sends continue while a batch commits.
A database outage (PostgreSQL restarting) is waited out: claims pause, results stay queued
and are written when the database is back (their leases may have expired meanwhile: a
result whose lease was lost changes nothing, except a valid receipt, which settles the
delivery whoever holds it).

Shutdown (`stop` set, SIGTERM in `gateway worker`): no new claims; in-flight sends get
`grace_seconds` to finish and be recorded; what is still running then is cancelled and its
leases released (state `pending`), so another worker takes it at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.clock import Clock
from gateway.delivery import breaker, breaker_store, bulletin_store, outbox, receipts
from gateway.delivery.bulletin_store import SignedBulletin
from gateway.delivery.destinations import DestinationConfig, DestinationRegistry
from gateway.delivery.outbox import Claimed
from gateway.delivery.port import Destination, OutgoingDelivery, PushResult
from gateway.delivery.ratelimit import TokenBucket
from gateway.delivery.results import LanePolicy, SendResult, apply_results
from gateway.delivery.retry import RetryPolicy
from gateway.signing.receipt import ReceiptInvalid
from gateway.store.db import Database

log = logging.getLogger(__name__)

DB_ERRORS = (OperationalError, DBAPIError, OSError)


@dataclass
class _Lane:
    """Everything the worker keeps about one destination."""

    config: DestinationConfig
    adapter: Destination
    bucket: TokenBucket
    retry: RetryPolicy
    breaker: breaker.BreakerPolicy
    inflight: dict[str, asyncio.Task] = field(default_factory=dict)  # claimed, result not yet recorded
    sending: int = 0  # sends in progress (a finished send frees its slot before its result is recorded)
    probing: bool = False


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        registry: DestinationRegistry,
        *,
        worker_id: str | None = None,
        poll_interval: float = 0.2,
        reap_interval: float = 1.0,
        grace_seconds: float = 10.0,
        flush_max: int = 500,
        flush_min: int = 48,
        flush_linger: float = 0.02,
        random: Callable[[], float] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self.worker_id = worker_id or default_worker_id()
        self.poll_interval = poll_interval
        self.reap_interval = reap_interval
        self.grace_seconds = grace_seconds
        self.flush_max = flush_max
        # results are recorded in batches of up to flush_max; a batch smaller than flush_min
        # waits up to flush_linger seconds for more (a batch's fixed cost — its transaction and
        # a dozen statements — is several times a result's own: bench/deliver.py)
        self.flush_min = flush_min
        self.flush_linger = flush_linger
        self.random = random
        self.lanes: dict[str, _Lane] = {}
        self._results: list[SendResult] = []
        self._results_ready = asyncio.Event()
        self._wake = asyncio.Event()
        # two database threads: claims (and reaps) never wait behind the recording of a batch
        # (on PostgreSQL both proceed at once; SQLite serialises the two writers itself)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        self._flush_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-flush")
        self._last_reap = 0.0
        self.counters = {"claimed": 0, "sent": 0, "settled": 0, "retried": 0, "dead": 0, "rejected": 0,
                         "bad_receipts": 0, "lost_leases": 0, "reaped": 0, "db_errors": 0}

    # --- plumbing ---------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self.clock.now()

    async def _db(self, fn: Callable[..., Any], *args: Any, executor: concurrent.futures.Executor | None = None,
                  **kw: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor or self._executor, lambda: fn(*args, **kw))

    def _write(self, fn: Callable[..., Any]) -> Callable[[], Any]:
        def run() -> Any:
            with self.db.write() as conn:
                return fn(conn)
        return run

    def _lane(self, name: str) -> _Lane:
        lane = self.lanes.get(name)
        if lane is None:
            config = self.registry.get(name)
            lane = _Lane(config, self.registry.adapter(name), TokenBucket.from_config(config.rate_limit),
                         RetryPolicy.from_config(config.retry, self.random), breaker.BreakerPolicy.from_config(config.breaker))
            self.lanes[name] = lane
        return lane

    # --- the loop ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        flusher = asyncio.create_task(self._flusher(stop))
        backoff = 0.1
        try:
            while not stop.is_set():
                try:
                    claimed_any = await self._tick()
                    backoff = 0.1
                except DB_ERRORS as exc:
                    self.counters["db_errors"] += 1
                    log.warning("worker %s: database unavailable (%s); retrying in %.1fs", self.worker_id,
                                type(exc).__name__, backoff)
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if not claimed_any:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_first(stop.wait(), self._wake.wait()), self._idle_wait())
        finally:
            await self._shutdown(flusher)

    def _idle_wait(self) -> float:
        waits = [self.poll_interval]
        for lane in self.lanes.values():
            if lane.sending < lane.config.concurrency and lane.bucket.available < 1:
                waits.append(lane.bucket.wait_time())
        return max(0.001, min(waits))

    async def reap(self) -> list[str]:
        """Settle expired leases: back to pending, or dead once the destination's max_attempts are used."""
        limits = {name: self._lane(name).retry.max_attempts for name in self.registry.names()}
        reaped = await self._db(self._write(lambda c: outbox.reap_expired_leases(c, self.now(), limits)))
        if reaped:
            self.counters["reaped"] += len(reaped)
            log.info("worker %s: %d expired leases settled", self.worker_id, len(reaped))
        return reaped

    async def _tick(self) -> bool:
        mono = time.monotonic()
        if mono - self._last_reap >= self.reap_interval:
            self._last_reap = mono
            await self.reap()
        ready = [(name, self._lane(name)) for name in self.registry.names() if _wants_claim(self._lane(name))]
        if not ready:
            return False
        states = await self._db(self._read(breaker_store.load_all))
        claimed_any = False
        for name, lane in ready:
            free = lane.config.concurrency - lane.sending
            now = self.now()
            admission = breaker.admission(states.get(name, breaker.BreakerState()), now)
            if admission is breaker.Admission.NONE:
                continue
            if admission is breaker.Admission.PROBE:
                if lane.inflight:
                    continue
                won = await self._db(self._write(lambda c, n=name, ln=lane: breaker_store.try_start_probe(c, n, self.now(), ln.breaker)))
                if not won:
                    continue
                limit = 1
            else:
                limit = min(free, max(0, lane.bucket.available))
                if limit <= 0:
                    continue
            batch = await self._db(self._write(lambda c, n=name, k=limit, ln=lane: self._claim(c, n, k, ln)))
            if not batch:
                continue
            claimed_any = True
            self.counters["claimed"] += len(batch)
            for claimed, bulletin in batch:
                task = asyncio.create_task(self._send(lane, claimed, bulletin))
                lane.inflight[claimed.delivery_id] = task
                lane.sending += 1
        return claimed_any

    def _read(self, fn: Callable[..., Any]) -> Callable[[], Any]:
        def run() -> Any:
            with self.db.read() as conn:
                return fn(conn)
        return run

    def _claim(self, conn, name: str, limit: int, lane: _Lane) -> list[tuple[Claimed, SignedBulletin]]:  # noqa: ANN001
        claimed = outbox.claim(conn, destination=name, worker=self.worker_id, limit=limit, now=self.now(),
                               lease_seconds=lane.config.lease_seconds)
        if not claimed:
            return []
        signed = bulletin_store.signed_bulletins(conn, (c.bulletin_id for c in claimed))
        return [(c, signed[c.bulletin_id]) for c in claimed]

    # --- one send ---------------------------------------------------------------------

    async def _send(self, lane: _Lane, claimed: Claimed, bulletin: SignedBulletin) -> None:
        try:
            await self._push_and_check(lane, claimed, bulletin)
        finally:
            lane.sending -= 1
            if _wants_claim(lane):  # enough slots are free: claim more while the result waits for its batch
                self._wake.set()

    async def _push_and_check(self, lane: _Lane, claimed: Claimed, bulletin: SignedBulletin) -> None:
        signed = bulletin.signed
        await lane.bucket.acquire()
        started = self.now()
        t0 = time.perf_counter()
        delivery = OutgoingDelivery(claimed.delivery_id, claimed.bulletin_id, claimed.destination, signed,
                                    claimed.attempt)
        timeout = max(1.0, lane.config.lease_seconds * 0.8)  # answer (or give up) well before the lease ends
        try:
            async with asyncio.timeout(timeout):
                push = await lane.adapter.push(delivery)
        except TimeoutError:
            push = PushResult.timed_out(f"no answer within {timeout:g}s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not kill the worker
            log.exception("adapter %s raised on delivery %s", lane.config.name, claimed.delivery_id)
            push = PushResult.network_error(exc)
        result = SendResult(claimed, started, self.now(), (time.perf_counter() - t0) * 1000, push)
        if push.delivered and push.receipt:
            try:
                result.receipt = receipts.verify_for_delivery(
                    push.receipt, self.registry.trust(lane.config.name), bulletin.digests,
                    delivery_id=claimed.delivery_id, bulletin_id=claimed.bulletin_id, now=result.finished_at)
            except ReceiptInvalid as exc:
                result.receipt_error = str(exc)
        self._results.append(result)
        self._results_ready.set()

    # --- results ----------------------------------------------------------------------

    async def _flusher(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while True:
            if not self._results:
                self._results_ready.clear()
                if stop.is_set() and not any(lane.inflight for lane in self.lanes.values()):
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._results_ready.wait(), 0.2)
                continue
            await self._gather_batch(stop)
            try:
                await self._flush_once()
                backoff = 0.1
            except DB_ERRORS as exc:
                self.counters["db_errors"] += 1
                log.warning("worker %s: cannot record %d results (%s); retrying", self.worker_id,
                            len(self._results), type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _gather_batch(self, stop: asyncio.Event) -> None:
        """Let a small batch grow for up to flush_linger seconds (not while stopping)."""
        deadline = time.monotonic() + self.flush_linger
        while len(self._results) < self.flush_min and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or not any(lane.sending for lane in self.lanes.values()):
                return  # nothing more is coming soon
            self._results_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._results_ready.wait(), left)

    async def _flush_once(self) -> None:
        batch = self._results[: self.flush_max]
        await self._db(self._write(lambda c: self._apply(c, batch)), executor=self._flush_executor)
        del self._results[: len(batch)]
        for r in batch:
            lane = self.lanes[r.claimed.destination]
            lane.inflight.pop(r.claimed.delivery_id, None)
        self._wake.set()

    async def run_once(self) -> int:
        """One pass: reap, claim, send, record; returns how many were claimed (tests, tools)."""
        self._last_reap = 0.0
        before = self.counters["claimed"]
        await self._tick()
        tasks = [t for lane in self.lanes.values() for t in lane.inflight.values()]
        await asyncio.gather(*tasks)
        while self._results:
            await self._flush_once()
        return self.counters["claimed"] - before

    async def aclose(self) -> None:
        for lane in self.lanes.values():
            await lane.adapter.aclose()
        self._executor.shutdown(wait=True)
        self._flush_executor.shutdown(wait=True)

    def _apply(self, conn, batch: list[SendResult]) -> None:  # noqa: ANN001
        policies = {name: LanePolicy(lane.retry, lane.breaker) for name, lane in self.lanes.items()}
        apply_results(conn, batch, worker=self.worker_id, now=self.now(), policies=policies, counters=self.counters)

    # --- shutdown ---------------------------------------------------------------------

    async def _shutdown(self, flusher: asyncio.Task) -> None:
        tasks = [t for lane in self.lanes.values() for t in lane.inflight.values() if not t.done()]
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=self.grace_seconds)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # let the flusher write what finished; then release what did not
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drain_results(), self.grace_seconds)
        flusher.cancel()
        await asyncio.gather(flusher, return_exceptions=True)
        unfinished = [did for lane in self.lanes.values() for did in lane.inflight]
        if unfinished:
            with contextlib.suppress(*DB_ERRORS):
                released = await self._db(self._write(lambda c: outbox.release(
                    c, worker=self.worker_id, delivery_ids=unfinished, now=self.now())))
                log.info("worker %s: released %d leases at shutdown", self.worker_id, released)
        for lane in self.lanes.values():
            with contextlib.suppress(Exception):
                await lane.adapter.aclose()
        self._executor.shutdown(wait=True)
        self._flush_executor.shutdown(wait=True)

    async def _drain_results(self) -> None:
        while self._results:
            await asyncio.sleep(0.01)


def _wants_claim(lane: _Lane) -> bool:
    """A free slot, and claims in bunches: free slots are refilled once half of them have freed
    up (a claim's fixed cost — its transaction — is paid once per bunch)."""
    free = lane.config.concurrency - lane.sending
    return free > 0 and not (lane.sending and free < max(1, lane.config.concurrency // 2))


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _first(*aws) -> None:  # noqa: ANN002
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


async def run_worker(db: Database, clock: Clock, registry: DestinationRegistry, stop_event: asyncio.Event,
                     **kw: Any) -> Worker:
    """Run a delivery worker until `stop_event` is set (for `gateway run` and `gateway worker`)."""
    worker = Worker(db, clock, registry, **kw)
    log.info("delivery worker %s started (destinations: %s)", worker.worker_id,
             ", ".join(worker.registry.names()) or "none")
    await worker.run(stop_event)
    return worker
