"""Receipts: verify a destination's signed receipt for a delivery, then store and settle it
(`gateway.delivery.receipt_store` holds the statements).

A receipt arrives three ways: in the push response (`sync`), posted by the destination to
`POST /v1/receipts` (`async`), or fetched by `query_receipt` when it is overdue (`query`).
It counts only if it is signed by that destination's pinned certificate and echoes the
reference digests of the bulletin we sent (`verify_receipt`). Then:

- all items accepted (or duplicate at the destination) → `acknowledged`;
  all rejected → `rejected`; some of each → `partially_rejected`;
- the same receipt again (same receipt id or same bytes) is stored once, flagged
  `duplicate` (with a count) and changes nothing; a further receipt for a settled delivery
  is kept as evidence, flagged duplicate, and changes nothing either;
- a posted receipt is taken only from the destination's own credential: a key of the partner
  named by the destination's `receipts_partner` (any other key, an operator's included, is
  refused), and only if it verifies against that destination's pinned certificate;
- a refused receipt (not the destination's credential, unreadable, unknown delivery, not
  verified, not matching) changes nothing about the delivery: it goes to the refused-receipts
  log with the reason (`gateway.delivery.refused_store`). Only the push's own synchronous answer,
  when it does not verify, is stored with the receipts and counts a `bad_receipts`;
- a second signed receipt with other outcomes for a settled delivery is kept as a conflict
  (`receipts.conflict`), alerts operators and overwrites nothing.

Overdue receipts (`check_overdue_receipts`, for the scheduler): a delivery awaiting its
receipt longer than its destination's `receipt_timeout_seconds` is re-queried, and if
there is still nothing it is flagged `receipt_overdue` (an operator alert) and stays
`awaiting_receipt`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.delivery import bulletin_store, outbox
from gateway.delivery import refused_store as refused
from gateway.delivery.destinations import DestinationRegistry, load_adapter_factory
from gateway.delivery.receipt_store import (
    StoredReceipt,
    SyncReceipt,
    UnknownDelivery,
    awaiting,
    content_hash,
    flag_overdue,
    item_outcomes,
    receipts_of,
    rejected_items,
    settle_batch,
    state_for,
    store_receipt,
)
from gateway.signing.dsig import ReferenceDigest, reference_digests
from gateway.signing.receipt import ReceiptInvalid, ReceiptMismatch, VerifiedReceipt, verify_receipt
from gateway.store.db import Database

log = logging.getLogger(__name__)
RECEIPT_NS = "urn:safety-credit:receipt:1"

__all__ = ["OverdueReport", "ReceiptNotYours", "StoredReceipt", "SyncReceipt", "UnknownDelivery", "accept_receipt",
           "check_overdue_receipts", "content_hash", "item_outcomes", "receipts_of", "rejected_items",
           "settle_batch", "state_for", "store_receipt", "verify_for_delivery"]


def verify_for_delivery(data: bytes, trust: Any, signed_bulletin: bytes | Sequence[ReferenceDigest], *,
                        delivery_id: str, bulletin_id: str, now: dt.datetime | None = None) -> VerifiedReceipt:
    """verify_receipt against the bulletin's own reference digests (raises ReceiptInvalid)."""
    digests = reference_digests(signed_bulletin) if isinstance(signed_bulletin, bytes) else signed_bulletin
    return verify_receipt(data, trust, digests, expected_bulletin_id=bulletin_id, expected_delivery_id=delivery_id,
                          now=now)


def _peek_delivery_id(data: bytes) -> str | None:
    from gateway import xmlsafe

    try:
        root = xmlsafe.parse(data)
    except Exception:  # noqa: BLE001 - unreadable: the caller answers 400
        return None
    return root.findtext(f"{{{RECEIPT_NS}}}DeliveryId")


class ReceiptNotYours(PermissionError):
    """The credential that posted a receipt is not the one bound to its delivery's destination."""


def _refuse(db: Database, data: bytes, reason: str, detail: str, now: dt.datetime, channel: str, *,
            delivery_id: str | None = None, destination: str | None = None,
            poster: refused.Poster | None = None) -> None:
    with db.write() as conn:
        refused.record(conn, data=data, reason=reason, detail=detail, now=now, channel=channel,
                       delivery_id=delivery_id, destination=destination, poster=poster)
    log.warning("receipt refused (%s) for delivery %s from %s: %s", reason, delivery_id,
                poster.key_id if poster else channel, detail)


def accept_receipt(db: Database, registry: DestinationRegistry, data: bytes, now: dt.datetime, *,
                   channel: str = "async", poster: refused.Poster | None = None) -> StoredReceipt:
    """A receipt posted by a destination (`POST /v1/receipts`): find its delivery, check that
    `poster` is the destination's own credential (its `receipts_partner`), verify against that
    destination's pinned trust, store. A refusal changes nothing about the delivery: it is
    written to the refused-receipts log and raised (UnknownDelivery, ReceiptNotYours,
    ReceiptInvalid / ReceiptMismatch)."""
    delivery_id = _peek_delivery_id(data)
    if not delivery_id:
        _refuse(db, data, "unreadable", "not a receipt: no DeliveryId", now, channel, poster=poster)
        raise ReceiptInvalid("not a receipt: no DeliveryId")
    with db.read() as conn:
        row = outbox.get_delivery(conn, delivery_id)
        bulletin = bulletin_store.get_bulletin(conn, row.bulletin_id) if row is not None else None
    if row is None:
        _refuse(db, data, "unknown_delivery", f"no delivery {delivery_id}", now, channel, delivery_id=delivery_id,
                poster=poster)
        raise UnknownDelivery(delivery_id)
    where = {"delivery_id": delivery_id, "destination": row.destination, "poster": poster}
    bound = registry.get(row.destination).receipts_partner if row.destination in registry else None
    if poster is not None and (bound is None or poster.organisation != bound):
        why = (f"destination {row.destination} has no receipts_partner: its receipts cannot be posted"
               if bound is None else
               f"the credential {poster.key_id} (partner {poster.organisation}) is not destination "
               f"{row.destination}'s own")
        _refuse(db, data, "not_the_destination", why, now, channel, **where)
        raise ReceiptNotYours(why)
    try:
        verified = verify_for_delivery(data, registry.trust(row.destination), bulletin_store.digests_of(bulletin),
                                       delivery_id=delivery_id, bulletin_id=row.bulletin_id, now=now)
    except ReceiptInvalid as exc:
        reason = "mismatch" if isinstance(exc, ReceiptMismatch) else "not_verified"
        _refuse(db, data, reason, str(exc), now, channel, **where)
        raise
    with db.write() as conn:
        return store_receipt(conn, delivery_id=delivery_id, data=data, verified=verified, channel=channel, now=now)


# --- overdue receipts ------------------------------------------------------------------


@dataclass
class OverdueReport:
    queried: int = 0
    settled: int = 0
    flagged: list[str] | None = None


async def check_overdue_receipts_async(db: Database, registry: DestinationRegistry, now: dt.datetime) -> OverdueReport:
    report = OverdueReport(flagged=[])
    with db.read() as conn:
        waiting = awaiting(conn)
    overdue = []
    for row in waiting:
        if row.destination not in registry:
            continue
        timeout = registry.get(row.destination).receipt_timeout_seconds
        if row.sent_at is not None and row.sent_at + dt.timedelta(seconds=timeout) <= now:
            overdue.append(row)
    adapters: dict[str, Any] = {}
    try:
        for row in overdue:
            config = registry.get(row.destination)
            if row.destination not in adapters:  # a fresh adapter: this may run on another loop
                adapters[row.destination] = load_adapter_factory(config.adapter)(config)
            report.queried += 1
            data = await adapters[row.destination].query_receipt(row.delivery_id, row.bulletin_id)
            if data:
                with db.read() as conn:
                    digests = bulletin_store.digests_of(bulletin_store.get_bulletin(conn, row.bulletin_id))
                try:
                    verified = verify_for_delivery(data, registry.trust(row.destination), digests,
                                                   delivery_id=row.delivery_id, bulletin_id=row.bulletin_id, now=now)
                except ReceiptInvalid as exc:  # logged as refused; the delivery is untouched
                    verified = None
                    _refuse(db, data, "mismatch" if isinstance(exc, ReceiptMismatch) else "not_verified", str(exc),
                            now, "query", delivery_id=row.delivery_id, destination=row.destination)
                if verified is not None:
                    with db.write() as conn:
                        stored = store_receipt(conn, delivery_id=row.delivery_id, data=data, verified=verified,
                                               channel="query", now=now)
                    if stored.state is not None:
                        report.settled += 1
                        continue
            with db.write() as conn:
                flag_overdue(conn, row.delivery_id, now)
            report.flagged.append(row.delivery_id)
            log.warning("receipt overdue for delivery %s to %s (sent %s)", row.delivery_id, row.destination,
                        row.sent_at)
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
    return report


def check_overdue_receipts(db: Database, registry: DestinationRegistry, now: dt.datetime) -> OverdueReport:
    """Scheduler entry point (a plain function; runs its own event loop)."""
    return asyncio.run(check_overdue_receipts_async(db, registry, now))
