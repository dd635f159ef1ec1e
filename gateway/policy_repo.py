"""SQL for the policy service: a subject's current records, stored decisions, list entries, events.

Every function takes a connection inside the caller's transaction; none commits. The
use cases (what to store and when) are in `gateway.policy_service`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from gateway.domain.records import PUBLISHED_KINDS, Record, RecordKind
from gateway.store.delivery_tables import bulletin_items
from gateway.store.policy_tables import decisions, list_entries, list_entry_events
from gateway.store.publication_tables import publication_items
from gateway.store.sql import insert_ignore
from gateway.store.tables import agencies, records, subjects

# States in which the list entry applies and its period runs (RULES.md §4, §5).
RUNNING = ("published", "upheld", "corrected", "removal_requested")
# States in which the subject may still apply for removal (before it has asked).
REMOVABLE = ("published", "upheld", "corrected")


def new_entry_uid() -> str:
    return f"ent_{uuid.uuid4().hex}"


# --- subjects and records ---------------------------------------------------------------


def get_subject(conn: Connection, subject_id: int) -> Any | None:
    return conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()


def subject_ids_with_records(conn: Connection) -> list[int]:
    q = select(records.c.subject_id).where(records.c.status == "current").distinct().order_by(records.c.subject_id)
    return [r[0] for r in conn.execute(q)]


def current_records(conn: Connection, subject_id: int, subject_key: str) -> list[Record]:
    """The subject's current records as the policy engine takes them."""
    q = (
        select(records, agencies.c.code.label("agency_code"))
        .join(agencies, agencies.c.id == records.c.agency_id)
        .where(records.c.subject_id == subject_id, records.c.status == "current")
        .order_by(records.c.id)
    )
    return [
        Record(r.uid, RecordKind(r.kind), subject_key, r.agency_code, r.event_date, r.data, r.version, r.status,
               r.received_at)
        for r in conn.execute(q)
        if r.event_date is not None
    ]


# --- decisions ----------------------------------------------------------------------------


def get_decision(conn: Connection, subject_id: int, profile: str) -> Any | None:
    return conn.execute(
        select(decisions).where(decisions.c.subject_id == subject_id, decisions.c.profile == profile)
    ).first()


def save_decision(
    conn: Connection,
    *,
    subject_id: int,
    profile: str,
    as_of: dt.date,
    body: dict[str, Any],
    digest: str,
    subject_changed_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Store the subject's decision; True when its content changed (the body is rewritten
    only then; otherwise only the day and the subject version it reflects move)."""
    row = get_decision(conn, subject_id, profile)
    if row is None:
        insert_ignore(
            conn,
            decisions,
            [{"subject_id": subject_id, "profile": profile, "as_of": as_of, "computed_at": now, "checked_at": now,
              "subject_changed_at": subject_changed_at, "digest": digest, "body": body}],
            ("subject_id", "profile"),
        )
        return True
    where = decisions.c.id == row.id
    if row.digest != digest:
        conn.execute(update(decisions).where(where).values(
            as_of=as_of, computed_at=now, checked_at=now, subject_changed_at=subject_changed_at, digest=digest,
            body=body))
        return True
    if row.as_of != as_of or row.subject_changed_at != subject_changed_at:
        conn.execute(update(decisions).where(where).values(
            as_of=as_of, checked_at=now, subject_changed_at=subject_changed_at))
    return False


def starless_subjects(conn: Connection, profile: str) -> tuple[list[str], list[str]]:
    """(subjects whose latest rated year has no star, subjects ordered to rectify after
    consecutive star-less years), from the stored decisions."""
    stars = decisions.c.body["stars"]
    q = (
        select(subjects.c.key, stars["key_monitoring"].as_boolean(), stars["rectification_ordered"].as_boolean())
        .join(subjects, subjects.c.id == decisions.c.subject_id)
        .where(decisions.c.profile == profile)
        .order_by(subjects.c.key)
    )
    key_monitoring, rectification = [], []
    for key, monitored, rectify in conn.execute(q):
        if monitored:
            key_monitoring.append(key)
        if rectify:
            rectification.append(key)
    return key_monitoring, rectification


def overdue_publications(conn: Connection, as_of: dt.date, limit: int = 100) -> tuple[int, list[str]]:
    """双公示 records past their `publish_by` on `as_of` that no destination has queued or
    been sent (no publication item, no bulletin item): (count, the first `limit` uids)."""
    queued = exists().where(publication_items.c.record_uid == records.c.uid)
    sent = exists().where(bulletin_items.c.record_uid == records.c.uid)
    where = and_(
        records.c.status == "current",
        records.c.kind.in_([k.value for k in PUBLISHED_KINDS]),
        records.c.publish_by < as_of,
        ~queued,
        ~sent,
    )
    count = conn.execute(select(func.count()).select_from(records).where(where)).scalar_one()
    uids = [r[0] for r in conn.execute(select(records.c.uid).where(where).order_by(records.c.publish_by, records.c.id)
                                       .limit(limit))]
    return count, uids


# --- list entries -------------------------------------------------------------------------


def _entry_select():  # noqa: ANN202
    return select(list_entries, subjects.c.key.label("subject_key"), subjects.c.name.label("subject_name")).join(
        subjects, subjects.c.id == list_entries.c.subject_id
    )


def get_entry(conn: Connection, uid: str, *, for_update: bool = False) -> Any | None:
    q = _entry_select().where(list_entries.c.uid == uid)
    if for_update and conn.dialect.name == "postgresql":
        q = q.with_for_update(of=list_entries)
    return conn.execute(q).first()


def subject_entries(conn: Connection, subject_id: int, *, open_only: bool = False) -> list[Any]:
    q = _entry_select().where(list_entries.c.subject_id == subject_id)
    if open_only:
        q = q.where(list_entries.c.open_key.is_not(None))
    return list(conn.execute(q.order_by(list_entries.c.id)))


def insert_entry(conn: Connection, values: dict[str, Any]) -> Any | None:
    """Insert an entry unless an open one with the same (subject, open_key) exists; the new
    row, or None when it was a duplicate."""
    insert_ignore(conn, list_entries, [values], ("subject_id", "open_key"))
    return get_entry(conn, values["uid"])


def update_entry(conn: Connection, entry_id: int, values: dict[str, Any], *, unless_set: str | None = None) -> bool:
    """Update an entry; with `unless_set`, only while that column is still NULL (a flag set
    once). True when a row changed."""
    q = update(list_entries).where(list_entries.c.id == entry_id)
    if unless_set:
        q = q.where(list_entries.c[unless_set].is_(None))
    return conn.execute(q.values(**values)).rowcount == 1


def insert_event(
    conn: Connection,
    entry_id: int,
    *,
    from_state: str | None,
    action: str,
    to_state: str,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(list_entry_events.insert().values(
        entry_id=entry_id, from_state=from_state, action=action, to_state=to_state, actor=actor, at=at, note=note,
        detail=detail))


def entry_events(conn: Connection, entry_ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in entry_ids}
    if entry_ids:
        q = select(list_entry_events).where(list_entry_events.c.entry_id.in_(list(entry_ids))).order_by(
            list_entry_events.c.id)
        for row in conn.execute(q):
            out[row.entry_id].append(row)
    return out


def find_entries(
    conn: Connection,
    *,
    list_kind: str | None = None,
    state: str | None = None,
    expires_before: dt.date | None = None,
    region: str | None = None,
    subject_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Any]:
    """Entries in id order after `after_id`; `region` matches a division code or its prefix
    ("51" is every entry in Sichuan)."""
    q = _entry_select().where(list_entries.c.id > after_id)
    if list_kind:
        q = q.where(list_entries.c.list_kind == list_kind)
    if state:
        q = q.where(list_entries.c.state == state)
    if expires_before:
        q = q.where(list_entries.c.expires_on < expires_before)
    if region:
        q = q.where(list_entries.c.region.like(region_prefix(region) + "%"))
    if subject_id is not None:
        q = q.where(list_entries.c.subject_id == subject_id)
    return list(conn.execute(q.order_by(list_entries.c.id).limit(limit)))


def region_prefix(region: str) -> str:
    """The prefix a division code covers: 510000 → 51 (province), 510700 → 5107 (city)."""
    if len(region) == 6 and region.endswith("0000"):
        return region[:2]
    if len(region) == 6 and region.endswith("00"):
        return region[:4]
    return region


def entries_to_expire(conn: Connection, as_of: dt.date) -> list[str]:
    q = select(list_entries.c.uid).where(
        or_(
            and_(list_entries.c.list_kind != "incentive", list_entries.c.state.in_(RUNNING)),
            and_(list_entries.c.list_kind == "incentive", list_entries.c.state == "published"),
        ),
        list_entries.c.expires_on <= as_of,
    )
    return [r[0] for r in conn.execute(q.order_by(list_entries.c.id))]


def removal_windows_opening(conn: Connection, as_of: dt.date) -> list[Any]:
    c = list_entries.c
    q = select(list_entries).where(
        c.list_kind != "incentive",
        c.state.in_(REMOVABLE),
        c.removal_window_flagged_on.is_(None),
        or_(c.removal_window_opens_on <= as_of, c.early_removal_from <= as_of),
        c.expires_on > as_of,
    )
    return list(conn.execute(q.order_by(c.id)))


def reapply_windows_opening(conn: Connection, as_of: dt.date) -> list[Any]:
    c = list_entries.c
    q = select(list_entries).where(
        c.list_kind == "incentive",
        c.state == "published",
        c.reapply_window_flagged_on.is_(None),
        c.reapply_from <= as_of,
        c.expires_on > as_of,
    )
    return list(conn.execute(q.order_by(c.id)))


def ids(rows: Iterable[Any]) -> list[int]:
    return [r.id for r in rows]
