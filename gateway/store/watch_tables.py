"""The watchlist tables (贷后监控): who watches which subjects, and the change feed of each list.

- `watchlists`: one per partner list; `mode` says how changes reach the partner: `webhook`
  (a signed `watch` bulletin through the outbox to `destination` as soon as the change is
  dispatched), `digest` (one bulletin a day with every change since the last) or `poll`
  (`GET /v1/watchlists/{id}/changes?since=` only).
- `watchlist_subjects`: the subjects (by key: a USCC) a list watches, up to the partner's
  limit; the partner's own reference (a loan or policy number) travels with each.
- `watch_changes`: one row per (watchlist, subject, standing version) whose sector view
  changed, written by the change-feed consumer's watch step in the transaction that stores
  the standing (insert-or-ignore: a replayed batch adds nothing). `cursor` is given when the
  dispatcher numbers the row (in commit order, so a poller's `since=` never skips a change
  that commits late); `bulletin_id` when it was put into the outbox (never twice).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from gateway.store.tables import metadata
from gateway.store.types import JsonDoc, UTCDateTime

watchlists = Table(
    "watchlists",
    metadata,
    Column("id", String(40), primary_key=True),  # wl-<hex>
    Column("partner_id", Integer, ForeignKey("access_partners.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("sector", String(16), nullable=False),  # the partner's sector when it was made
    Column("mode", String(8), nullable=False),  # webhook | digest | poll
    Column("destination", String(64)),  # the outbox destination of webhook and digest lists
    Column("subject_count", Integer, nullable=False, server_default="0"),
    Column("created_by", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),
)

watchlist_subjects = Table(
    "watchlist_subjects",
    metadata,
    Column("watchlist_id", String(40), ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True),
    Column("subject_key", String(64), primary_key=True),
    Column("reference", String(100)),
    Column("added_at", UTCDateTime, nullable=False),
    Index("ix_watchlist_subjects_key", "subject_key"),
)

watch_changes = Table(
    "watch_changes",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("watchlist_id", String(40), ForeignKey("watchlists.id", ondelete="CASCADE"), nullable=False),
    Column("subject_key", String(64), nullable=False),
    Column("standing_version", Integer, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("body", JsonDoc, nullable=False),  # subject_name, before, after, changes, reasons
    Column("cursor", BigInteger().with_variant(Integer, "sqlite"), unique=True),
    Column("bulletin_id", String(64)),
    Column("dispatched_at", UTCDateTime),
    UniqueConstraint("watchlist_id", "subject_key", "standing_version", name="uq_watch_changes_version"),
    Index("ix_watch_changes_list_cursor", "watchlist_id", "cursor"),
    Index("ix_watch_changes_undispatched", "cursor", "seq"),
)
