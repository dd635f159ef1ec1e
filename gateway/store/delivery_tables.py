"""The delivery tables: signed bulletins, one delivery per (bulletin, destination), every
attempt, receipts with per-item outcomes, and each destination's circuit breaker.

`deliveries.state` follows docs/architecture.md: pending → sending → awaiting_receipt → acknowledged |
partially_rejected | rejected, with retry_wait between failed attempts and dead after the
retry policy gives up. `deliveries` carries the lease (owner + deadline) of the worker that
is sending it; `destination_state` is shared by all workers so a breaker opened by one
pauses them all.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from gateway.store.tables import metadata
from gateway.store.types import UTCDateTime

bulletins = Table(
    "bulletins",
    metadata,
    Column("id", String(64), primary_key=True),  # the BulletinId in the signed header
    Column("destination", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),  # per destination, from 1
    Column("kind", String(16), nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("signed", LargeBinary, nullable=False),  # the exact bytes sent, never re-serialised
    Column("digest", String(64), nullable=False),  # sha256 hex of `signed`
    # JSON [[uri, digest method, digest value], ...]: what a receipt must echo (NULL before 0016)
    Column("reference_digests", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("destination", "sequence"),
)

bulletin_items = Table(
    "bulletin_items",
    metadata,
    Column("bulletin_id", String(64), ForeignKey("bulletins.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("record_uid", String(40), index=True),  # records.uid when the item comes from a record
    Column("subject", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", String(36), primary_key=True),  # uuid, sent on every attempt
    Column("bulletin_id", String(64), ForeignKey("bulletins.id"), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("state", String(24), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_expires_at", UTCDateTime),
    Column("last_error", Text),
    Column("receipt_overdue", Boolean, nullable=False, default=False),
    Column("bad_receipts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),  # when the destination took it (awaiting_receipt since)
    Column("acknowledged_at", UTCDateTime),
    UniqueConstraint("bulletin_id", "destination"),
    # the claim: due deliveries of one destination in due order
    Index("ix_deliveries_destination_state_next_attempt_at", "destination", "state", "next_attempt_at"),
    Index("ix_deliveries_state_lease_expires_at", "state", "lease_expires_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.delivery_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(64)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(24), nullable=False),  # PushStatus value, or lease_expired / released
    Column("http_status", Integer),
    Column("error", Text),
    Column("duration_ms", Float),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.delivery_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("receipt_id", String(128)),  # the destination's ReceiptId (None if unreadable)
    Column("received_at", UTCDateTime, nullable=False),
    Column("signed", LargeBinary, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("duplicate", Boolean, nullable=False, default=False),  # the same receipt arrived again
    Column("duplicate_count", Integer, nullable=False, default=0),  # how many times (stored once)
    Column("error", Text),  # why it did not verify
    Column("channel", String(16), nullable=False),  # sync | async | query
    # a signed receipt contradicting the one that settled the delivery: kept, never applied
    Column("conflict", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("delivery_id", "content_hash"),
)

# receipts refused at the door (not the destination's credential, unreadable, not verified, not
# matching the bulletin, unknown delivery): who sent what and why; the delivery is untouched
refused_receipts = Table(
    "refused_receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # async | query
    Column("delivery_id", String(36), index=True),  # as the document claims (may be unknown)
    Column("destination", String(64)),  # the claimed delivery's destination, when it exists
    Column("actor", String(64)),  # the credential's key id that posted it
    Column("organisation", String(18)),  # that credential's partner (USCC)
    Column("reason", String(32), nullable=False),  # see gateway.delivery.refused_store.REASONS
    Column("detail", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("document", LargeBinary),  # the bytes as posted (up to a cap), for the investigation
)

receipt_items = Table(
    "receipt_items",
    metadata,
    Column("receipt_pk", Integer, ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("delivery_id", String(36), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # accepted | rejected | duplicate
    Column("code", String(64)),
    Column("message", Text),
)

destination_state = Table(
    "destination_state",
    metadata,
    Column("destination", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # closed | open | half_open
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("opened_at", UTCDateTime),
    Column("probe_at", UTCDateTime),  # when an open breaker lets one probe through
    Column("probe_delivery_id", String(36)),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)
