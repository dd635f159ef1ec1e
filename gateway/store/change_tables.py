"""The change feed (变更队列): one row per subject whose standing must be decided again.

Intake, list transitions, withdrawals, a profile switch and the daily sweep write a row in
the same transaction as the change itself (an upsert per subject: the row exists while
something is to do, `seq` counts the changes it stands for); the consumer claims rows with a
lease, decides each subject once, writes what follows from it and deletes the row in the
same transaction, unless a newer change arrived meanwhile (`seq` moved past `claimed_seq`).

A subject that keeps failing is `quarantined` with its error after the configured number of
attempts (a lease that expired counts as one: the process died holding it).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from gateway.store.tables import metadata
from gateway.store.types import UTCDateTime

subject_changes = Table(
    "subject_changes",
    metadata,
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, nullable=False),  # bumped by every change of the subject
    Column("cause", String(32), nullable=False),  # of the latest change: intake | transition | date | profile | ...
    Column("enqueued_at", UTCDateTime, nullable=False),  # the oldest change not yet decided
    Column("state", String(16), nullable=False),  # pending | quarantined
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(96)),
    Column("lease_expires_at", UTCDateTime),
    Column("claimed_seq", Integer),  # the seq the lease holder is deciding
    Column("last_error", Text),
    Column("failed_at", UTCDateTime),
    Index("ix_subject_changes_state_next_attempt_at", "state", "next_attempt_at"),
)
