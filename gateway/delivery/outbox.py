"""The durable outbox: it owns every SQL statement on bulletins and deliveries.

Routing/batching enqueue a signed bulletin for one destination in their own transaction
(`enqueue_bulletin`): the bulletin row (exact signed bytes), its items, and one delivery in
state `pending`. Workers then claim due deliveries with ONE atomic statement (`claim`),
holding a lease; every attempt is recorded; the results move the delivery on:

    pending ─claim→ sending ─2xx→ awaiting_receipt ─receipt→ acknowledged | partially_rejected | rejected
                       │  └─2xx with receipt──────────────────↗
                       ├─transient failure→ retry_wait ─(due)→ claimed again
                       ├─4xx validation→ rejected
                       └─policy gives up→ dead
    an expired lease (worker killed) → pending (`reap_expired_leases`)
    operator requeue: dead | rejected | partially_rejected → pending, attempts reset

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
import hashlib
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, insert, or_, select

from gateway.store.delivery_tables import bulletin_items, bulletins, deliveries
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


def signed_digest(signed: bytes) -> str:
    return hashlib.sha256(signed).hexdigest()


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
        signed=signed, digest=signed_digest(signed), created_at=now,
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
