"""What the result of one send does to its delivery (the worker's flusher calls this).

A batch of results is written in ONE transaction by `apply_results`, with one statement per
kind of change rather than one per delivery:

- every attempt → a `delivery_attempts` row (one multi-row insert);
- 2xx with a verified receipt → the receipt, its per-item outcomes and the new state
  (`receipts.settle_batch`); 2xx without a receipt → `awaiting_receipt` (`mark_sent_many`);
- 2xx with a receipt that does not verify → the receipt kept with its reason, then retried;
- 4xx validation → `rejected`; a transient failure → `retry_wait` at the retry policy's
  time, or `dead` with the reason once the policy gives up (`mark_retry_many`,
  `mark_final_many`: one executemany each);
- the breaker of each destination counts its transport failures and successes.

Every change to a sent delivery is guarded by this worker's lease (see `outbox`): a result
whose lease was reaped meanwhile changes nothing (counted as `lost_leases`), except a valid
receipt, which settles the delivery whoever holds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from gateway.delivery import breaker, breaker_store, outbox, receipts
from gateway.delivery.outbox import AttemptRecord, Claimed, State
from gateway.delivery.port import PushResult, PushStatus
from gateway.delivery.retry import RetryPolicy
from gateway.signing.receipt import VerifiedReceipt


@dataclass
class SendResult:
    """One finished send, waiting to be recorded."""

    claimed: Claimed
    started_at: dt.datetime
    finished_at: dt.datetime
    duration_ms: float
    push: PushResult
    receipt: VerifiedReceipt | None = None
    receipt_error: str | None = None


@dataclass(frozen=True)
class LanePolicy:
    """What `apply_results` needs to know about a destination."""

    retry: RetryPolicy
    breaker: breaker.BreakerPolicy


def apply_results(conn: Connection, batch: Sequence[SendResult], *, worker: str, now: dt.datetime,
                  policies: Mapping[str, LanePolicy], counters: dict[str, int]) -> None:
    """Record `batch` in the caller's transaction; `counters` are incremented (the worker's)."""
    attempts: list[AttemptRecord] = []
    settled: list[receipts.SyncReceipt] = []
    sent: list[str] = []
    retries: list[tuple[str, dt.datetime, str | None]] = []
    finals: dict[str, list[tuple[str, str | None]]] = {}
    health: dict[str, list[tuple[bool, str | None]]] = {}
    for r in batch:
        c, push = r.claimed, r.push
        policy = policies[c.destination]
        outcome = push.status
        error = push.error
        if push.delivered and r.receipt_error:
            outcome, error = PushStatus.BAD_RECEIPT, f"bad receipt: {r.receipt_error}"
        attempts.append(AttemptRecord(c.delivery_id, c.attempt, worker, r.started_at, r.finished_at,
                                      str(outcome), push.http_status, error, r.duration_ms))
        if outcome.counts_against_breaker:
            health.setdefault(c.destination, []).append((False, error))
        elif outcome is not PushStatus.BAD_RECEIPT:
            health.setdefault(c.destination, []).append((True, None))
        if outcome is PushStatus.DELIVERED:
            counters["sent"] += 1
            if r.receipt is not None:
                settled.append(receipts.SyncReceipt(c.delivery_id, push.receipt, r.receipt))
            else:
                sent.append(c.delivery_id)
            continue
        if outcome is PushStatus.BAD_RECEIPT:
            counters["bad_receipts"] += 1
            receipts.store_receipt(conn, delivery_id=c.delivery_id, data=push.receipt, verified=None,
                                   channel="sync", now=now, error=r.receipt_error)
        if outcome is PushStatus.REJECTED:
            counters["rejected"] += 1
            finals.setdefault(State.REJECTED, []).append((c.delivery_id, error))
            continue
        age = (now - c.created_at).total_seconds()
        wait = policy.retry.get_schedule_in(attempts=c.attempt, age=age, retry_after=push.retry_after)
        if wait is None:
            counters["dead"] += 1
            reason = policy.retry.give_up_reason(attempts=c.attempt, age=age)
            finals.setdefault(State.DEAD, []).append((c.delivery_id, f"{reason}; last error: {error}"))
        else:
            counters["retried"] += 1
            retries.append((c.delivery_id, now + dt.timedelta(seconds=wait), error))
    lost = 0
    for state, entries in finals.items():
        lost += len(entries) - outbox.mark_final_many(conn, worker=worker, now=now, state=state, entries=entries)
    if retries:
        lost += len(retries) - outbox.mark_retry_many(conn, worker=worker, now=now, entries=retries)
    if sent:
        lost += len(sent) - outbox.mark_sent_many(conn, delivery_ids=sent, worker=worker, now=now)
    counters["lost_leases"] += lost
    outbox.record_attempts(conn, attempts)
    states = receipts.settle_batch(conn, settled, now)
    counters["settled"] += sum(1 for s in states.values() if s)
    for destination, events in health.items():
        policy = policies[destination].breaker
        successes = 0
        for ok, error in events:
            if ok:
                successes += 1
            else:
                breaker_store.record_failure(conn, destination, now, policy, error)
        if successes and events[-1][0]:
            breaker_store.record_success(conn, destination, now)
