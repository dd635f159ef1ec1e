"""The refused-receipts log and the receipt conflicts: what operators are shown when a
receipt did not count.

A receipt posted to `POST /v1/receipts` (or fetched by the overdue check) that is refused
changes nothing about its delivery: not its state, not `bad_receipts`, not `last_error`.
It is written here instead, with who posted it (the credential's key id and partner), which
delivery it claimed, the reason and the bytes as posted (up to `KEEP_BYTES`). Reasons:

- `not_the_destination`: the credential is not the one bound to the delivery's destination
  (its `receipts_partner`), or the destination has no partner bound;
- `unknown_delivery`: the DeliveryId names no delivery the gateway made;
- `unreadable`: not a receipt (no DeliveryId, not XML);
- `not_verified`: the signature, profile, XSD or certificate check failed against the
  destination's pinned trust;
- `mismatch`: signed by the destination but echoing other digests than the bulletin sent.

A conflict is different: a second receipt signed by the destination that contradicts the one
that settled the delivery. It is stored with the receipts (`receipts.conflict`), never applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from gateway.store.delivery_tables import deliveries, receipts, refused_receipts

KEEP_BYTES = 65536
REASONS = ("not_the_destination", "unknown_delivery", "unreadable", "not_verified", "mismatch")


@dataclass(frozen=True)
class Poster:
    """Who posted a receipt: the credential's key id and its partner's USCC."""

    key_id: str | None
    organisation: str | None


def record(conn: Connection, *, data: bytes, reason: str, detail: str, now: dt.datetime, channel: str,
           delivery_id: str | None = None, destination: str | None = None, poster: Poster | None = None) -> int:
    if reason not in REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}")
    return conn.execute(insert(refused_receipts).values(
        received_at=now, channel=channel, delivery_id=(delivery_id or None) and delivery_id[:36],
        destination=destination, actor=poster.key_id if poster else None,
        organisation=poster.organisation if poster else None, reason=reason, detail=detail[:2000],
        content_hash=hashlib.sha256(data).hexdigest(), size=len(data), document=data[:KEEP_BYTES],
    ).returning(refused_receipts.c.id)).scalar_one()


def _row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "received_at": r.received_at, "channel": r.channel, "delivery_id": r.delivery_id,
            "destination": r.destination, "actor": r.actor, "organisation": r.organisation, "reason": r.reason,
            "detail": r.detail, "content_hash": r.content_hash, "size": r.size}


def refused(conn: Connection, *, limit: int = 100, delivery_id: str | None = None,
            reason: str | None = None) -> list[dict[str, Any]]:
    """The latest refused receipts first (without the bytes)."""
    c = refused_receipts.c
    stmt = select(*[col for col in refused_receipts.c if col.name != "document"]).order_by(c.id.desc()).limit(limit)
    if delivery_id:
        stmt = stmt.where(c.delivery_id == delivery_id)
    if reason:
        stmt = stmt.where(c.reason == reason)
    return [_row(r) for r in conn.execute(stmt)]


def refused_counts(conn: Connection, since: dt.datetime | None = None) -> dict[str, int]:
    """Refused receipts by reason (since a time, or all)."""
    c = refused_receipts.c
    stmt = select(c.reason, func.count()).group_by(c.reason)
    if since is not None:
        stmt = stmt.where(c.received_at >= since)
    return {reason: int(n) for reason, n in conn.execute(stmt)}


def conflicts(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """Signed receipts kept as conflicts, latest first, with their delivery's state."""
    r, d = receipts.c, deliveries.c
    rows = conn.execute(
        select(r.id, r.delivery_id, r.receipt_id, r.received_at, r.channel, d.destination, d.bulletin_id, d.state)
        .join(deliveries, d.delivery_id == r.delivery_id)
        .where(r.conflict.is_(True)).order_by(r.id.desc()).limit(limit)
    ).all()
    return [{"id": x.id, "delivery_id": x.delivery_id, "receipt_id": x.receipt_id, "received_at": x.received_at,
             "channel": x.channel, "destination": x.destination, "bulletin_id": x.bulletin_id,
             "delivery_state": x.state} for x in rows]
