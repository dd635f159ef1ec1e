"""The publication tables: pending items per destination, and the scheduler's runs.

`publication_items` holds one row per (destination, item). The item id is derived from the
destination and the *source key* (what the item is about: a record version, a list entry of
a subject, a withdrawal of an earlier item), so the same record version is never queued
twice for a destination: rows are inserted with INSERT … ON CONFLICT DO NOTHING on
(destination, source_key). A row is `pending` until the batcher puts it in a signed
bulletin; then it is `batched`, with the bulletin id, in the same transaction that hands
the bulletin to the outbox. An item that cannot be put in a bulletin (it does not serialise
or its bulletin would not validate) is `quarantined` with its error, alone: the other items
of its destination still go.

`scheduled_runs` holds one row per (job, slot) (a slot is the period a run is for:
'2026-11' for a monthly report, '2026-11-02' for a daily job, '2026-11-22T03' for an hourly
one). Scheduler ticks only insert-or-ignore these rows; a runner claims a row by an UPDATE
that only succeeds while `started_at` is NULL, so each run is executed once.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from gateway.store.tables import metadata
from gateway.store.types import JsonDoc, UTCDateTime

publication_items = Table(
    "publication_items",
    metadata,
    Column("id", Integer, primary_key=True),  # insertion order: the order items are sent in
    Column("item_id", String(64), nullable=False, unique=True),  # the itemId in the bulletin
    Column("destination", String(64), nullable=False),
    Column("source_key", String(200), nullable=False),  # e.g. rec:<uid>, list:<subject>:<list>:<start>
    Column("kind", String(32), nullable=False),  # ItemKind value
    Column("subject", String(64), nullable=False),  # the subject key (USCC or reg:<注册号>)
    Column("subject_id", Integer, ForeignKey("subjects.id"), index=True),
    Column("record_uid", String(40)),  # records.uid when the item comes from one record version
    Column("ref_item_id", String(64)),  # withdrawal / repair / removal: the item it refers to
    Column("fields", JsonDoc, nullable=False),  # the item's fields as the destination may see them
    Column("state", String(16), nullable=False),  # pending | batched | quarantined
    Column("bulletin_id", String(64)),  # once batched
    Column("created_at", UTCDateTime, nullable=False),
    Column("batched_at", UTCDateTime),
    Column("error", Text),  # why it was quarantined (it cannot be put in a bulletin)
    Column("quarantined_at", UTCDateTime),
    UniqueConstraint("destination", "source_key"),
    Index("ix_publication_items_destination_state_id", "destination", "state", "id"),
)

scheduled_runs = Table(
    "scheduled_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(96), nullable=False),
    Column("slot", String(32), nullable=False),
    Column("enqueued_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(16)),  # ok | failed
    Column("runner", String(96)),  # host:pid of the process that ran it
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text),  # a short summary, or the error
    UniqueConstraint("job", "slot"),
    Index("ix_scheduled_runs_started_at", "started_at"),
)
