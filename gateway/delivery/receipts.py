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
- a receipt that does not verify is stored (verified = false, with the reason) and the
  delivery's `bad_receipts` is counted; it never settles anything.

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

from gateway.delivery import outbox
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
from gateway.signing.receipt import ReceiptInvalid, VerifiedReceipt, verify_receipt
from gateway.store.db import Database

log = logging.getLogger(__name__)
RECEIPT_NS = "urn:safety-credit:receipt:1"

__all__ = ["OverdueReport", "StoredReceipt", "SyncReceipt", "UnknownDelivery", "accept_receipt",
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


def accept_receipt(db: Database, registry: DestinationRegistry, data: bytes, now: dt.datetime, *,
                   channel: str = "async") -> StoredReceipt:
    """A receipt posted by a destination (`POST /v1/receipts`): find its delivery, verify
    against that destination's pinned trust, store. Raises UnknownDelivery, ReceiptInvalid."""
    delivery_id = _peek_delivery_id(data)
    if not delivery_id:
        raise ReceiptInvalid("not a receipt: no DeliveryId")
    with db.read() as conn:
        row = outbox.get_delivery(conn, delivery_id)
        if row is None:
            raise UnknownDelivery(delivery_id)
        bulletin = outbox.get_bulletin(conn, row.bulletin_id)
    try:
        verified = verify_for_delivery(data, registry.trust(row.destination), bytes(bulletin.signed),
                                       delivery_id=delivery_id, bulletin_id=row.bulletin_id, now=now)
    except ReceiptInvalid as exc:
        with db.write() as conn:
            store_receipt(conn, delivery_id=delivery_id, data=data, verified=None, channel=channel, now=now,
                          error=str(exc))
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
                    signed = bytes(outbox.get_bulletin(conn, row.bulletin_id).signed)
                try:
                    verified = verify_for_delivery(data, registry.trust(row.destination), signed,
                                                   delivery_id=row.delivery_id, bulletin_id=row.bulletin_id, now=now)
                    error = None
                except ReceiptInvalid as exc:
                    verified, error = None, str(exc)
                with db.write() as conn:
                    stored = store_receipt(conn, delivery_id=row.delivery_id, data=data, verified=verified,
                                           channel="query", now=now, error=error)
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
