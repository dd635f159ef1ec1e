"""The receipts' SQL: `receipts` and `receipt_items`, and what a receipt does to its delivery.

A verified receipt settles the delivery (all items accepted → acknowledged; all rejected →
rejected; else partially_rejected); the same receipt again is stored once, flagged duplicate;
a synchronous receipt (the push's own answer) that does not verify is stored with its error
and counts a bad receipt; a signed receipt contradicting the one that settled the delivery is
stored with `conflict` set and never applied. Receipts refused at `POST /v1/receipts` never
reach this table (`gateway.delivery.refused_store`). The logic of verification is
`gateway.delivery.receipts`; every statement is here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from gateway.delivery import outbox
from gateway.delivery.outbox import State
from gateway.signing.receipt import Outcome, VerifiedReceipt
from gateway.store.delivery_tables import bulletin_items, deliveries, receipt_items, receipts
from gateway.store.sql import chunks
from gateway.store.tables import agencies, records

log = logging.getLogger(__name__)
SETTLED = frozenset({State.ACKNOWLEDGED, State.PARTIALLY_REJECTED, State.REJECTED})


class UnknownDelivery(LookupError):
    """A receipt names a delivery the gateway never made."""


@dataclass(frozen=True)
class StoredReceipt:
    receipt_pk: int | None
    delivery_id: str
    verified: bool
    duplicate: bool
    state: str | None  # the delivery's state after this receipt (None: unchanged)
    error: str | None = None


def state_for(outcomes: Sequence) -> str:
    rejected = sum(1 for o in outcomes if str(o.status) == Outcome.REJECTED)
    if rejected == 0:
        return State.ACKNOWLEDGED
    return State.REJECTED if rejected == len(outcomes) else State.PARTIALLY_REJECTED


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()




def store_receipt(conn: Connection, *, delivery_id: str, data: bytes, verified: VerifiedReceipt | None,
                  channel: str, now: dt.datetime, error: str | None = None) -> StoredReceipt:
    """Store a receipt (verified or not) and settle the delivery if it is the first valid one."""
    r = receipts.c
    digest = content_hash(data)
    match = r.content_hash == digest
    if verified is not None and verified.receipt_id:
        match = or_(match, and_(r.receipt_id == verified.receipt_id, r.verified.is_(True)))
    existing = conn.execute(select(r.id).where(r.delivery_id == delivery_id, match)).first()
    if existing is not None:
        conn.execute(update(receipts).where(r.id == existing.id)
                     .values(duplicate=True, duplicate_count=r.duplicate_count + 1))
        state = None
        if verified is not None:  # the replayed answer settles a requeued delivery's new sequence
            state = state_for(verified.outcomes)
            if not outbox.set_receipt_state(conn, delivery_id=delivery_id, state=state, now=now):
                state = None
        return StoredReceipt(existing.id, delivery_id, verified is not None, True, state, error)
    delivery = conn.execute(select(deliveries.c.state).where(deliveries.c.delivery_id == delivery_id)).first()
    if delivery is None:
        raise UnknownDelivery(delivery_id)
    settled_already = delivery.state in SETTLED
    conflict = settled_already and verified is not None and _differs(conn, delivery_id, verified.outcomes)
    if conflict:  # kept as evidence, never applied (item_outcomes skips it)
        log.warning("conflicting receipt %s for settled delivery %s kept, not applied", verified.receipt_id,
                    delivery_id)
    pk = conn.execute(insert(receipts).values(
        delivery_id=delivery_id, receipt_id=verified.receipt_id if verified else None, received_at=now,
        signed=data, content_hash=digest, verified=verified is not None, duplicate=settled_already and verified is not None,
        duplicate_count=0, error=error, channel=channel, conflict=conflict,
    ).returning(r.id)).scalar_one()
    if verified is None:
        conn.execute(update(deliveries).where(deliveries.c.delivery_id == delivery_id)
                     .values(bad_receipts=deliveries.c.bad_receipts + 1, last_error=f"bad receipt: {error}",
                             updated_at=now))
        return StoredReceipt(pk, delivery_id, False, False, None, error)
    if verified.outcomes:
        conn.execute(insert(receipt_items), [
            {"receipt_pk": pk, "item_id": o.item_id, "delivery_id": delivery_id, "status": str(o.status),
             "code": o.code, "message": o.message}
            for o in verified.outcomes
        ])
    if settled_already:
        return StoredReceipt(pk, delivery_id, True, True, None)
    state = state_for(verified.outcomes)
    outbox.set_receipt_state(conn, delivery_id=delivery_id, state=state, now=now)
    return StoredReceipt(pk, delivery_id, True, False, state)


def _differs(conn: Connection, delivery_id: str, outcomes: Sequence) -> bool:
    current = {o.item_id: str(o.status) for o in item_outcomes(conn, delivery_id)}
    return current != {o.item_id: str(o.status) for o in outcomes}


def receipts_of(conn: Connection, delivery_id: str) -> list:
    r = receipts.c
    return conn.execute(select(receipts).where(r.delivery_id == delivery_id).order_by(r.id)).all()


def item_outcomes(conn: Connection, delivery_id: str) -> list:
    """Per-item outcomes from the verified receipts of a delivery that were applied (latest
    wins: after a requeue the new sequence's receipt; a conflicting one is never applied)."""
    ri, r = receipt_items.c, receipts.c
    rows = conn.execute(
        select(ri.item_id, ri.status, ri.code, ri.message, ri.receipt_pk)
        .join(receipts, r.id == ri.receipt_pk)
        .where(ri.delivery_id == delivery_id, r.verified.is_(True), r.conflict.is_(False))
        .order_by(ri.receipt_pk)
    ).all()
    latest = {row.item_id: row for row in rows}
    return [latest[k] for k in sorted(latest)]


def rejected_items(conn: Connection, agency: str | None = None, *, limit: int = 1000) -> list[dict]:
    """Items a destination rejected, with their delivery, record and source agency.

    `agency` is an agency code (agencies.code): only items whose record it sent.
    """
    ri, bi, d = receipt_items.c, bulletin_items.c, deliveries.c
    stmt = (
        select(ri.delivery_id, d.destination, d.bulletin_id, ri.item_id, ri.code, ri.message, bi.record_uid,
               bi.subject, bi.kind, agencies.c.code.label("agency"))
        .select_from(receipt_items)
        .join(deliveries, d.delivery_id == ri.delivery_id)
        .join(bulletin_items, and_(bi.bulletin_id == d.bulletin_id, bi.item_id == ri.item_id))
        .outerjoin(records, records.c.uid == bi.record_uid)
        .outerjoin(agencies, agencies.c.id == records.c.agency_id)
        .where(ri.status == Outcome.REJECTED)
        .order_by(ri.delivery_id, ri.item_id)
        .limit(limit)
    )
    if agency:
        stmt = stmt.where(agencies.c.code == agency)
    return [dict(row._mapping) for row in conn.execute(stmt)]


def awaiting(conn: Connection) -> list[Any]:
    """Deliveries awaiting their receipt: (delivery_id, bulletin_id, destination, sent_at, receipt_overdue)."""
    d = deliveries.c
    return conn.execute(select(d.delivery_id, d.bulletin_id, d.destination, d.sent_at, d.receipt_overdue)
                        .where(d.state == State.AWAITING_RECEIPT).order_by(d.sent_at)).all()


def flag_overdue(conn: Connection, delivery_id: str, now: dt.datetime) -> None:
    d = deliveries.c
    conn.execute(update(deliveries).where(d.delivery_id == delivery_id, d.state == State.AWAITING_RECEIPT)
                 .values(receipt_overdue=True, updated_at=now, last_error="receipt overdue: re-queried, none received"))


def verified_receipts_of_bulletin(conn: Connection, bulletin_id: str) -> list[Any]:
    """(signed, destination) of every verified receipt for the bulletin's deliveries."""
    return conn.execute(
        select(receipts.c.signed, deliveries.c.destination)
        .join(deliveries, deliveries.c.delivery_id == receipts.c.delivery_id)
        .where(deliveries.c.bulletin_id == bulletin_id, receipts.c.verified.is_(True))
        .order_by(receipts.c.id)
    ).all()


@dataclass(frozen=True)
class SyncReceipt:
    delivery_id: str
    data: bytes
    verified: VerifiedReceipt


def settle_batch(conn: Connection, entries: Sequence[SyncReceipt], now: dt.datetime) -> dict[str, str | None]:
    """Store many verified synchronous receipts in a few statements; returns delivery → new
    state (None when the receipt was a duplicate or the delivery was already settled)."""
    if not entries:
        return {}
    r, d = receipts.c, deliveries.c
    ids = list({e.delivery_id for e in entries})
    seen: set[tuple[str, str]] = set()
    settled: set[str] = set()
    for part in chunks(ids):
        # each delivery by key (with `state IN (settled)` in the query SQLite walked the state
        # index, i.e. every settled delivery ever, for each batch), with its receipts so far
        for row in conn.execute(select(d.delivery_id, d.state, r.content_hash, r.receipt_id)
                                .select_from(deliveries.outerjoin(receipts, r.delivery_id == d.delivery_id))
                                .where(d.delivery_id.in_(part))):
            if row.state in SETTLED:
                settled.add(row.delivery_id)
            if row.content_hash is not None:
                seen.add((row.delivery_id, row.content_hash))
            if row.receipt_id:
                seen.add((row.delivery_id, "id:" + row.receipt_id))
    out: dict[str, str | None] = {}
    fresh: list[tuple[SyncReceipt, str]] = []
    by_state: dict[str, list[str]] = {}
    for e in entries:
        digest = content_hash(e.data)
        keys = {(e.delivery_id, digest), (e.delivery_id, "id:" + e.verified.receipt_id)}
        if keys & seen:
            conn.execute(update(receipts).where(r.delivery_id == e.delivery_id,
                                                or_(r.content_hash == digest, r.receipt_id == e.verified.receipt_id))
                         .values(duplicate=True, duplicate_count=r.duplicate_count + 1))
            # a replayed receipt is still the destination's answer to this send: after a
            # requeue it settles the new attempt sequence (else the lease would just expire)
            state = None if e.delivery_id in settled else state_for(e.verified.outcomes)
            if state is not None:
                by_state.setdefault(state, []).append(e.delivery_id)
            out[e.delivery_id] = state
            continue
        seen |= keys
        fresh.append((e, digest))
    if not fresh:
        _settle(conn, by_state, now)
        return out
    # RETURNING without sort_by_parameter_order: one multi-row INSERT (with the order asked
    # for, SQLite inserts row by row); (delivery, content hash) is unique, so it names each row
    pks = {(row.delivery_id, row.content_hash): row.id for row in conn.execute(
        insert(receipts).returning(r.id, r.delivery_id, r.content_hash), [
            {"delivery_id": e.delivery_id, "receipt_id": e.verified.receipt_id, "received_at": now, "signed": e.data,
             "content_hash": digest, "verified": True, "duplicate": e.delivery_id in settled, "duplicate_count": 0,
             "error": None, "channel": "sync",
             "conflict": e.delivery_id in settled and _differs(conn, e.delivery_id, e.verified.outcomes)}
            for e, digest in fresh
        ])}
    items = [
        {"receipt_pk": pks[(e.delivery_id, digest)], "item_id": o.item_id, "delivery_id": e.delivery_id,
         "status": str(o.status), "code": o.code, "message": o.message}
        for e, digest in fresh for o in e.verified.outcomes
    ]
    for part in chunks(items, 150):
        conn.execute(insert(receipt_items), part)
    for e, _ in fresh:
        if e.delivery_id in settled:
            out[e.delivery_id] = None
        else:
            state = state_for(e.verified.outcomes)
            by_state.setdefault(state, []).append(e.delivery_id)
            out[e.delivery_id] = state
    _settle(conn, by_state, now)
    return out


def _settle(conn: Connection, by_state: dict[str, list[str]], now: dt.datetime) -> None:
    d = deliveries.c
    for state, dids in by_state.items():
        for part in chunks(dids):
            conn.execute(
                update(deliveries)
                .where(d.delivery_id.in_(part), d.state.notin_(tuple(outbox.FINAL_STATES)))
                .values(state=state, lease_owner=None, lease_expires_at=None, acknowledged_at=now, updated_at=now,
                        receipt_overdue=False, sent_at=func.coalesce(d.sent_at, now), last_error=None)
            )
