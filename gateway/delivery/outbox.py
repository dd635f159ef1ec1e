"""The durable outbox: every SQL statement that changes bulletins and deliveries (reads of
stored bulletins are `gateway.delivery.bulletin_store`).

Routing/batching enqueue a signed bulletin for one destination in their own transaction
(`enqueue_bulletin`): the bulletin row (exact signed bytes), its items, and one delivery in
state `pending`. Workers then claim due deliveries with ONE atomic statement (`claim`),
holding a lease; every attempt is recorded; the results move the delivery on:

    pending ─claim→ sending ─2xx→ awaiting_receipt ─receipt→ acknowledged | partially_rejected | rejected
                       │  └─2xx with receipt──────────────────↗
                       ├─transient failure→ retry_wait ─(due)→ claimed again
                       ├─4xx validation→ rejected
                       └─policy gives up→ dead
    an expired lease (worker killed) → pending, or dead once max_attempts are used up
        (`reap_expired_leases`: a lease-expired attempt counts like any other)
    operator requeue: dead | rejected | partially_rejected → pending, attempts reset; the
        destination's answer to the next send settles it, a replayed receipt included
    a verified receipt settles any unsettled delivery (pending, sending, awaiting_receipt,
        retry_wait); acknowledged is final, the other final states only requeue leads out of

The claim (PostgreSQL):

    UPDATE deliveries SET state='sending', lease_owner=:w, lease_expires_at=:t, attempts=attempts+1, updated_at=:now
    WHERE delivery_id IN (SELECT delivery_id FROM deliveries
                          WHERE destination=:d AND state IN ('pending','retry_wait') AND next_attempt_at <= :now
                          ORDER BY next_attempt_at LIMIT :n FOR UPDATE SKIP LOCKED)
    RETURNING delivery_id, bulletin_id, attempts, created_at

On SQLite the same statement without SKIP LOCKED, inside BEGIN IMMEDIATE (writers are
serialised, so two workers cannot select the same rows).

Every state change of a sent delivery is guarded by its lease (`lease_owner = :w AND
state = 'sending'`): a worker whose lease was reaped while it was blocked cannot overwrite
what another worker has done since.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from gateway.delivery.bulletin_store import encode_digests, signed_digest
from gateway.store.delivery_tables import bulletin_items, bulletins, deliveries, delivery_attempts
from gateway.store.sql import chunks


class State:
    PENDING = "pending"
    SENDING = "sending"
    AWAITING_RECEIPT = "awaiting_receipt"
    RETRY_WAIT = "retry_wait"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_REJECTED = "partially_rejected"
    REJECTED = "rejected"
    DEAD = "dead"


STATES = (State.PENDING, State.SENDING, State.AWAITING_RECEIPT, State.RETRY_WAIT, State.ACKNOWLEDGED,
          State.PARTIALLY_REJECTED, State.REJECTED, State.DEAD)
FINAL_STATES = frozenset({State.ACKNOWLEDGED, State.PARTIALLY_REJECTED, State.REJECTED, State.DEAD})
REQUEUABLE_STATES = frozenset({State.DEAD, State.REJECTED, State.PARTIALLY_REJECTED})


class ItemRef(NamedTuple):
    """One item of a bulletin as the outbox keeps it (for receipts and per-agency queries)."""

    item_id: str
    record_uid: str | None
    subject: str
    kind: str


class DuplicateBulletin(Exception):
    """A bulletin with this id (or this destination sequence) is already in the outbox."""


def enqueue_bulletin(
    conn: Connection,
    *,
    destination: str,
    signed: bytes,
    bulletin_id: str,
    sequence: int,
    kind: str,
    items: Sequence[ItemRef | tuple[str, str | None, str, str]],
    now: dt.datetime,
    delivery_id: str | None = None,
) -> str:
    """Store a signed bulletin and its delivery (state `pending`) in the caller's transaction.

    `signed` is kept byte for byte; `items` are (item_id, record_uid, subject, kind). Returns
    the new delivery id (a uuid4 unless given). Raises DuplicateBulletin if the bulletin id or
    the (destination, sequence) pair is taken.
    """
    taken = conn.execute(
        select(bulletins.c.id).where(
            or_(bulletins.c.id == bulletin_id,
                and_(bulletins.c.destination == destination, bulletins.c.sequence == sequence))
        )
    ).first()
    if taken is not None:
        raise DuplicateBulletin(f"bulletin {bulletin_id} / {destination} #{sequence} is already enqueued")
    delivery_id = delivery_id or str(uuid.uuid4())
    conn.execute(insert(bulletins).values(
        id=bulletin_id, destination=destination, sequence=sequence, kind=str(kind), item_count=len(items),
        signed=signed, digest=signed_digest(signed), created_at=now, reference_digests=encode_digests(signed),
    ))
    rows = [
        {"bulletin_id": bulletin_id, "item_id": i[0], "record_uid": i[1], "subject": i[2], "kind": str(i[3])}
        for i in items
    ]
    for part in chunks(rows, 150):
        conn.execute(insert(bulletin_items), part)
    conn.execute(insert(deliveries).values(
        delivery_id=delivery_id, bulletin_id=bulletin_id, destination=destination, state=State.PENDING,
        attempts=0, next_attempt_at=now, receipt_overdue=False, bad_receipts=0, created_at=now, updated_at=now,
    ))
    return delivery_id


def next_sequence(conn: Connection, destination: str) -> int:
    """The next bulletin sequence number for `destination` (1, 2, …; call inside the enqueuing
    transaction: on SQLite that transaction holds the write lock, on PostgreSQL the unique
    (destination, sequence) constraint stops a concurrent enqueuer)."""
    current = conn.execute(
        select(func.max(bulletins.c.sequence)).where(bulletins.c.destination == destination)
    ).scalar()
    return int(current or 0) + 1


# --- claiming ------------------------------------------------------------------------


class Claimed(NamedTuple):
    delivery_id: str
    bulletin_id: str
    destination: str
    attempt: int  # the number of this attempt (attempts after the claim)
    created_at: dt.datetime
    lease_expires_at: dt.datetime


def claim_statement(conn: Connection, *, destination: str, worker: str, limit: int, now: dt.datetime,
                    lease_until: dt.datetime):
    """The one atomic claim (see the module docstring for the SQL it renders)."""
    d = deliveries.c
    due = (
        select(d.delivery_id)
        .where(d.destination == destination, d.state.in_((State.PENDING, State.RETRY_WAIT)), d.next_attempt_at <= now)
        .order_by(d.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(deliveries)
        .where(d.delivery_id.in_(due.scalar_subquery()))
        .values(state=State.SENDING, lease_owner=worker, lease_expires_at=lease_until, attempts=d.attempts + 1,
                updated_at=now)
        .returning(d.delivery_id, d.bulletin_id, d.destination, d.attempts, d.created_at, d.lease_expires_at)
    )


def claim(conn: Connection, *, destination: str, worker: str, limit: int, now: dt.datetime,
          lease_seconds: float) -> list[Claimed]:
    """Claim up to `limit` due deliveries of `destination` for `worker` (state → sending)."""
    if limit <= 0:
        return []
    stmt = claim_statement(conn, destination=destination, worker=worker, limit=limit, now=now,
                           lease_until=now + dt.timedelta(seconds=lease_seconds))
    return [Claimed(*row) for row in conn.execute(stmt)]


def reap_expired_leases(conn: Connection, now: dt.datetime,
                        max_attempts: Mapping[str, int] | None = None) -> list[str]:
    """Settle deliveries whose lease expired (their worker died or hung mid-send).

    The attempt that was in flight is recorded as `lease_expired` and counts like any other:
    a delivery whose destination's `max_attempts` (from `max_attempts`, by destination) is
    used up ends `dead` with the reason; the others go back to `pending`, due now. The send
    may or may not have reached the destination; its answer to the next send (a replayed
    receipt included) settles the delivery.
    """
    d = deliveries.c
    expired = and_(d.state == State.SENDING, d.lease_expires_at < now)
    rows: list = []
    for destination, limit in (max_attempts or {}).items():
        rows += conn.execute(
            update(deliveries)
            .where(expired, d.destination == destination, d.attempts >= limit)
            .values(state=State.DEAD, lease_owner=None, lease_expires_at=None, updated_at=now,
                    last_error=f"gave up after {limit} attempts (max_attempts={limit}); last error: lease expired: "
                               "the worker sending it stopped or hung")
            .returning(d.delivery_id, d.attempts)
        ).all()
    rows += conn.execute(
        update(deliveries)
        .where(expired)
        .values(state=State.PENDING, lease_owner=None, lease_expires_at=None, next_attempt_at=now, updated_at=now,
                last_error="lease expired: the worker sending it stopped or hung")
        .returning(d.delivery_id, d.attempts)
    ).all()
    if rows:
        conn.execute(insert(delivery_attempts), [
            {"delivery_id": r.delivery_id, "attempt": r.attempts, "worker": None, "started_at": now,
             "finished_at": now, "outcome": "lease_expired", "error": "lease expired before a result was recorded"}
            for r in rows
        ])
    return [r.delivery_id for r in rows]


def release(conn: Connection, *, worker: str, delivery_ids: Sequence[str], now: dt.datetime,
            reason: str = "released at shutdown") -> int:
    """Give leased deliveries back (graceful shutdown): `pending` again, due now."""
    d = deliveries.c
    count = 0
    for part in chunks(list(delivery_ids)):
        result = conn.execute(
            update(deliveries)
            .where(d.delivery_id.in_(part), d.state == State.SENDING, d.lease_owner == worker)
            .values(state=State.PENDING, lease_owner=None, lease_expires_at=None, next_attempt_at=now, updated_at=now,
                    last_error=reason)
        )
        count += result.rowcount
    return count


# --- results of attempts ---------------------------------------------------------------


class AttemptRecord(NamedTuple):
    delivery_id: str
    attempt: int
    worker: str
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: float


def record_attempts(conn: Connection, records: Sequence[AttemptRecord]) -> None:
    if records:
        conn.execute(insert(delivery_attempts), [r._asdict() for r in records])


def _leased(delivery_id: str, worker: str):  # noqa: ANN202
    d = deliveries.c
    return and_(d.delivery_id == delivery_id, d.state == State.SENDING, d.lease_owner == worker)


def mark_sent(conn: Connection, *, delivery_id: str, worker: str, now: dt.datetime) -> bool:
    """2xx without a receipt: the destination took it; wait for its receipt."""
    result = conn.execute(update(deliveries).where(_leased(delivery_id, worker)).values(
        state=State.AWAITING_RECEIPT, lease_owner=None, lease_expires_at=None, sent_at=now, updated_at=now,
        last_error=None))
    return result.rowcount == 1


def mark_sent_many(conn: Connection, *, delivery_ids: Sequence[str], worker: str, now: dt.datetime) -> int:
    """mark_sent for many deliveries in one statement per chunk; returns how many were still leased."""
    d = deliveries.c
    count = 0
    for part in chunks(list(delivery_ids)):
        count += conn.execute(
            update(deliveries)
            .where(d.delivery_id.in_(part), d.state == State.SENDING, d.lease_owner == worker)
            .values(state=State.AWAITING_RECEIPT, lease_owner=None, lease_expires_at=None, sent_at=now,
                    updated_at=now, last_error=None)
        ).rowcount
    return count


def mark_retry(conn: Connection, *, delivery_id: str, worker: str, now: dt.datetime, next_attempt_at: dt.datetime,
               error: str | None) -> bool:
    return mark_retry_many(conn, worker=worker, now=now, entries=[(delivery_id, next_attempt_at, error)]) == 1


def mark_retry_many(conn: Connection, *, worker: str, now: dt.datetime,
                    entries: Sequence[tuple[str, dt.datetime, str | None]]) -> int:
    """(delivery id, next attempt at, error) → `retry_wait`, in one executemany; returns how
    many were still leased by `worker`."""
    if not entries:
        return 0
    stmt = update(deliveries).where(_leased_many(worker)).values(
        state=State.RETRY_WAIT, lease_owner=None, lease_expires_at=None, next_attempt_at=bindparam("b_next"),
        updated_at=now, last_error=bindparam("b_error"))
    return conn.execute(stmt, [{"b_id": i, "b_next": t, "b_error": e} for i, t, e in entries]).rowcount


def mark_final(conn: Connection, *, delivery_id: str, worker: str, now: dt.datetime, state: str,
               error: str | None) -> bool:
    """rejected (4xx) or dead (the policy gave up)."""
    return mark_final_many(conn, worker=worker, now=now, state=state, entries=[(delivery_id, error)]) == 1


def mark_final_many(conn: Connection, *, worker: str, now: dt.datetime, state: str,
                    entries: Sequence[tuple[str, str | None]]) -> int:
    """(delivery id, error) → `state` (rejected or dead), in one executemany; returns how many
    were still leased by `worker`."""
    if not entries:
        return 0
    stmt = update(deliveries).where(_leased_many(worker)).values(
        state=state, lease_owner=None, lease_expires_at=None, updated_at=now, last_error=bindparam("b_error"))
    return conn.execute(stmt, [{"b_id": i, "b_error": e} for i, e in entries]).rowcount


def _leased_many(worker: str):  # noqa: ANN202
    d = deliveries.c
    return and_(d.delivery_id == bindparam("b_id"), d.state == State.SENDING, d.lease_owner == worker)


def set_receipt_state(conn: Connection, *, delivery_id: str, state: str, now: dt.datetime) -> bool:
    """A verified receipt settles the delivery, whoever holds it (the receipt is the proof)."""
    d = deliveries.c
    result = conn.execute(
        update(deliveries)
        .where(d.delivery_id == delivery_id, d.state.notin_(tuple(FINAL_STATES)))
        .values(state=state, lease_owner=None, lease_expires_at=None, acknowledged_at=now, updated_at=now,
                receipt_overdue=False, sent_at=func.coalesce(d.sent_at, now), last_error=None)
    )
    return result.rowcount == 1


def requeue(conn: Connection, delivery_id: str, now: dt.datetime) -> str | None:
    """Operator action: a dead or rejected delivery goes back to `pending` with its attempts
    reset (its attempt history stays). Returns the new state, or None if it was not requeuable."""
    d = deliveries.c
    result = conn.execute(
        update(deliveries)
        .where(d.delivery_id == delivery_id, d.state.in_(tuple(REQUEUABLE_STATES)))
        .values(state=State.PENDING, attempts=0, next_attempt_at=now, lease_owner=None, lease_expires_at=None,
                updated_at=now, acknowledged_at=None, receipt_overdue=False,
                last_error=None)
    )
    if result.rowcount != 1:
        return None
    conn.execute(insert(delivery_attempts).values(
        delivery_id=delivery_id, attempt=0, worker=None, started_at=now, finished_at=now, outcome="requeued",
        error="requeued by an operator"))
    return State.PENDING


# --- reading ------------------------------------------------------------------------


def get_delivery(conn: Connection, delivery_id: str):  # noqa: ANN201
    return conn.execute(select(deliveries).where(deliveries.c.delivery_id == delivery_id)).first()


def list_deliveries(conn: Connection, *, state: str | None = None, destination: str | None = None,
                    bulletin: str | None = None, limit: int = 100, after: str | None = None) -> list:
    """Deliveries newest first, keyset-paginated by (created_at, delivery_id) through `after`."""
    d = deliveries.c
    stmt = select(deliveries)
    if state:
        stmt = stmt.where(d.state == state)
    if destination:
        stmt = stmt.where(d.destination == destination)
    if bulletin:
        stmt = stmt.where(d.bulletin_id == bulletin)
    if after:
        cursor = conn.execute(select(d.created_at, d.delivery_id).where(d.delivery_id == after)).first()
        if cursor is not None:
            stmt = stmt.where(or_(d.created_at < cursor.created_at,
                                  and_(d.created_at == cursor.created_at, d.delivery_id < cursor.delivery_id)))
    return conn.execute(stmt.order_by(d.created_at.desc(), d.delivery_id.desc()).limit(limit)).all()


def attempts_of(conn: Connection, delivery_id: str) -> list:
    a = delivery_attempts.c
    return conn.execute(select(delivery_attempts).where(a.delivery_id == delivery_id).order_by(a.id)).all()


def count_by_state(conn: Connection, destination: str | None = None) -> dict[str, int]:
    d = deliveries.c
    stmt = select(d.state, func.count()).group_by(d.state)
    if destination:
        stmt = stmt.where(d.destination == destination)
    return {state: n for state, n in conn.execute(stmt)}
