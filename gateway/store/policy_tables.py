"""The policy tables: stored decisions, list entries and every transition of an entry.

- `decisions`: the latest `SubjectDecisions.to_dict()` of a subject under a profile (one row
  per (subject, profile)); `digest` is the sha256 of the body without `as_of`, so recomputing
  an unchanged result only moves `as_of`, and `subject_changed_at` (the subject's
  `changed_at` the body was computed from) tells a reader the row is stale.
- `list_entries`: entries on the joint punishment list (失信联合惩戒对象名单), the blacklist
  (黑名单) and the incentive list (守信联合激励对象名单), with their state and dates (docs/policy.md
  §4-§6). `open_key` is `<list>:<cases>` while the entry is open and NULL once it is final, so
  the unique (subject_id, open_key) refuses a second open entry for the same list and cases
  even from two processes at once (NULLs never collide on either database).
- `standings`: the subject's stored standing (`gateway.domain.standing`), one row per subject,
  written only by the change-feed consumer and read by every answer, eligibility check,
  publication and the console; `version` moves when its content (`digest`) changes, and
  `next_change_on` is the day the daily sweep decides the subject again.
- `list_entry_events`: one row per transition (who, when, from, action, to, note) — the full
  history docs/policy.md §6 asks for ("every step is recorded with who did it and when").
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from gateway.store.tables import metadata
from gateway.store.types import JsonDoc, UTCDateTime

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),  # when the body last changed
    Column("checked_at", UTCDateTime, nullable=False),  # last written: new content, day or subject version
    Column("subject_changed_at", UTCDateTime, nullable=False),  # subjects.changed_at it reflects
    Column("digest", String(64), nullable=False),
    Column("body", JsonDoc, nullable=False),
    # the latest rated year has no star, or rectification is ordered (body.stars): the sweep's
    # report reads these few rows by index instead of every decision's JSON
    Column("star_attention", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("subject_id", "profile"),
    Index("ix_decisions_profile_star_attention", "profile", "star_attention"),
)

list_entries = Table(
    "list_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(40), nullable=False, unique=True),  # public id: ent_<hex>
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("list_kind", String(24), nullable=False),  # joint_punishment | blacklist | incentive
    Column("state", String(24), nullable=False),
    Column("open_key", String(400)),  # <list>:<cases> while open; NULL once final
    Column("cases", JsonDoc, nullable=False),  # profile case keys (or implied_by:<list>)
    Column("record_uids", JsonDoc, nullable=False),  # the records behind the cases
    Column("reasons", JsonDoc),  # the engine's reasons when the entry was made
    Column("region", String(6)),  # the subject's division code
    Column("profile", String(64), nullable=False),
    Column("origin_uid", String(40)),  # the entry whose transition made this one (incentive fraud)
    Column("starts_on", Date),
    Column("expires_on", Date),  # the first day the entry no longer applies
    Column("removal_window_opens_on", Date),
    Column("early_removal_from", Date),
    Column("reapply_from", Date),
    Column("removal_window_flagged_on", Date),  # the sweep saw the removal window open
    Column("reapply_window_flagged_on", Date),  # the sweep saw the reapplication window open
    Column("notified_at", UTCDateTime),
    Column("argument_deadline", Date),  # 告知: last working day to argue
    Column("revision", Integer, nullable=False, server_default="0"),  # corrections published (更正)
    Column("correction_note", Text),  # what the latest correction changed
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("subject_id", "open_key"),
    Index("ix_list_entries_list_kind_state", "list_kind", "state"),
    Index("ix_list_entries_state_expires_on", "state", "expires_on"),
)

list_entry_events = Table(
    "list_entry_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("list_entries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_state", String(24)),  # NULL for the event that made the entry
    Column("action", String(32), nullable=False),  # a lifecycle action, or propose | apply | list | window_opened
    Column("to_state", String(24), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("acting_for", String(64)),  # an operator's step taken for this agency (谁提供、谁负责)
    Column("at", UTCDateTime, nullable=False),  # when it was recorded
    Column("happened_on", Date),  # the day it really happened (rule 3; NULL before migration 0011: `at`)
    Column("note", Text),
    Column("detail", JsonDoc),  # fraud flag, instructions followed, dates set
)

standings = Table(
    "standings",
    metadata,
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True),
    Column("profile", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("restricted", Boolean, nullable=False),  # on a punishment list in force
    Column("version", Integer, nullable=False),  # 1, 2, ... as its content changes
    Column("digest", String(64), nullable=False),
    Column("next_change_on", Date),  # the day it may change by itself (expiry, window, lookback)
    Column("receivers", String(200), nullable=False, server_default=""),  # sectors with a measure: ",land,finance,"
    Column("computed_at", UTCDateTime, nullable=False),  # when its content last changed
    Column("checked_at", UTCDateTime, nullable=False),  # when it was last decided
    Column("body", JsonDoc, nullable=False),
    Index("ix_standings_next_change_on", "next_change_on"),
)

# credit repair (信用修复, issue 12 rule 5): a subject's application to end the publication of a
# penalty early; on approval the penalty's publication is withdrawn everywhere it was sent
repair_applications = Table(
    "repair_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(40), nullable=False, unique=True),  # public id: rep_<hex>
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=False, index=True),
    Column("record_uid", String(40), nullable=False, index=True),  # the penalty's record version
    Column("state", String(16), nullable=False),  # applied | approved | refused
    Column("applied_on", Date, nullable=False),  # the day the subject applied (rule 3)
    Column("earliest_on", Date, nullable=False),  # the end of the minimum publication period
    Column("applied_by", String(128), nullable=False),
    Column("decided_on", Date),
    Column("decided_by", String(128)),
    Column("note", Text),
    Column("decision_note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# 003 §七: after two star-less years, each step an operator's decision with its reason:
# 责令限期整改 (rectification, by `deadline`) → 停产停业整顿 (suspension) → 提请关闭 (closure);
# 验收合格 (accepted) ends the procedure. Written only by `gateway.policy.star_steps`.
star_steps = Table(
    "star_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(40), nullable=False, unique=True),
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("step", String(16), nullable=False),  # rectification | suspension | accepted | closure
    Column("decided_on", Date, nullable=False),  # the China day of the decision
    Column("deadline", Date),  # rectification: the day by which it must be done
    Column("reason", Text, nullable=False),  # the decision's reason, in the operator's words
    Column("basis", JsonDoc),  # the star-less years and their records; the profile rule cited
    Column("actor", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
