"""The publication capability's SQL: `publication_items` (pending, batched, quarantined) and the
queries over what was published (timeliness, overdue 双公示 records).

Every function takes a connection inside the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, exists, func, select, update

from gateway.domain.policy.output import jsonable
from gateway.domain.records import PUBLISHED_KINDS
from gateway.publication.planning import ExistingItem, PlannedItem
from gateway.store.delivery_tables import bulletin_items, deliveries
from gateway.store.publication_tables import publication_items as pi
from gateway.store.sql import Deferred, chunks, insert_ignore
from gateway.store.tables import agencies, records, subjects

CHINA = ZoneInfo("Asia/Shanghai")
PENDING, BATCHED, QUARANTINED = "pending", "batched", "quarantined"
TIMELINESS_WINDOW_DAYS = 90  # publication timeliness counts records due in this window


class ConcurrentBatch(Exception):
    """Another batcher took some of these items first; this transaction is rolled back."""


# --- queueing -------------------------------------------------------------------------------


def existing_items(conn: Connection, subject_ids: Iterable[int]) -> dict[int, list[ExistingItem]]:
    """The items already queued for each subject, at every destination."""
    out: dict[int, list[ExistingItem]] = {}
    for part in chunks(sorted(set(subject_ids))):
        q = select(pi.c.subject_id, pi.c.destination, pi.c.source_key, pi.c.item_id, pi.c.kind, pi.c.fields,
                   pi.c.state).where(pi.c.subject_id.in_(part))
        for sid, *rest in conn.execute(q):
            out.setdefault(sid, []).append(ExistingItem(*rest))
    return out


def store_items(conn: Connection, subject_id: int | None, planned: Iterable[PlannedItem], now: dt.datetime,
                known: set[tuple[str, str]], writes: Deferred | None = None) -> int:
    """Queue the planned items not yet queued (insert-or-ignore on (destination, source_key));
    with `writes`, the inserts join the consumer batch's deferred writes."""
    rows = [
        {
            "item_id": p.item_id, "destination": p.destination, "source_key": p.source_key, "kind": p.kind.value,
            "subject": p.subject, "subject_id": subject_id, "record_uid": p.record_uid, "ref_item_id": p.ref_item_id,
            "fields": jsonable(p.fields), "state": PENDING, "created_at": now,
        }
        for p in planned
        if (p.destination, p.source_key) not in known
    ]
    rows = list({(r["destination"], r["source_key"]): r for r in rows}.values())
    if writes is not None:
        writes.insert_ignore(pi, rows, ("destination", "source_key"))
        return len(rows)
    for part in chunks(rows, 300):
        insert_ignore(conn, pi, part, ("destination", "source_key"))
    return len(rows)


# --- batching -------------------------------------------------------------------------------


def take_pending(conn: Connection, destination: str, limit: int, source_prefix: str | None) -> list[Any]:
    """The oldest pending items of `destination` (locked on PostgreSQL until the commit)."""
    q = select(pi).where(pi.c.destination == destination, pi.c.state == PENDING).order_by(pi.c.id).limit(limit)
    if source_prefix is not None:
        q = q.where(pi.c.source_key.startswith(source_prefix, autoescape=True))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return list(conn.execute(q))


def ref_bulletins(conn: Connection, rows: Sequence[Any]) -> dict[str, str | None]:
    """The bulletin that carried each item referred to by a withdrawal, change or removal."""
    refs = {r.ref_item_id for r in rows if r.ref_item_id}
    if not refs:
        return {}
    found = conn.execute(select(pi.c.item_id, pi.c.bulletin_id).where(pi.c.item_id.in_(refs)))
    return {item_id: bulletin_id for item_id, bulletin_id in found}


def mark_batched(conn: Connection, ids: Sequence[int], bulletin_id: str, now: dt.datetime) -> None:
    result = conn.execute(
        update(pi).where(pi.c.id.in_(ids), pi.c.state == PENDING)
        .values(state=BATCHED, bulletin_id=bulletin_id, batched_at=now)
    )
    if result.rowcount != len(ids):
        raise ConcurrentBatch(f"{len(ids) - result.rowcount} of {len(ids)} items were batched by someone else")


def quarantine(conn: Connection, errors: Mapping[int, str], now: dt.datetime) -> int:
    """Set these items aside with the reason they cannot be published (by row id)."""
    count = 0
    for item_id, error in errors.items():
        count += conn.execute(update(pi).where(pi.c.id == item_id, pi.c.state == PENDING)
                              .values(state=QUARANTINED, error=error[:4000], quarantined_at=now)).rowcount
    return count


def release_quarantined(conn: Connection, item_ids: Sequence[str] | None, now: dt.datetime) -> int:
    """Operator: quarantined items (these item ids, or all) go back to pending."""
    stmt = update(pi).where(pi.c.state == QUARANTINED)
    if item_ids is not None:
        stmt = stmt.where(pi.c.item_id.in_(list(item_ids)))
    return conn.execute(stmt.values(state=PENDING, error=None, quarantined_at=None, created_at=now)).rowcount


def quarantined(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    q = (select(pi.c.item_id, pi.c.destination, pi.c.kind, pi.c.subject, pi.c.record_uid, pi.c.error,
                pi.c.quarantined_at)
         .where(pi.c.state == QUARANTINED).order_by(pi.c.quarantined_at.desc(), pi.c.id).limit(limit))
    return [dict(r._mapping) for r in conn.execute(q)]


def item_counts(conn: Connection) -> list[dict[str, Any]]:
    """Per destination and state: items, and the oldest one's creation time."""
    rows = conn.execute(select(pi.c.destination, pi.c.state, func.count(), func.min(pi.c.created_at))
                        .where(pi.c.state.in_((PENDING, QUARANTINED)))
                        .group_by(pi.c.destination, pi.c.state)).all()
    return [{"destination": r[0], "state": r[1], "count": int(r[2]), "oldest": r[3]} for r in rows]


def items_of_subject(conn: Connection, subject_id: int) -> list[Any]:
    return list(conn.execute(select(pi).where(pi.c.subject_id == subject_id).order_by(pi.c.id)))


# --- what was published ----------------------------------------------------------------------


def overdue_publications(conn: Connection, as_of: dt.date, limit: int = 100) -> tuple[int, list[str]]:
    """双公示 records past their `publish_by` on `as_of` that no destination has queued or
    been sent (no publication item, no bulletin item): (count, the first `limit` uids)."""
    queued = exists().where(pi.c.record_uid == records.c.uid)
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


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def timeliness(conn: Connection, now: dt.datetime, *, near_days: int = 2, limit: int = 200) -> dict[str, Any]:
    """Records with a 双公示 deadline (`publish_by`, decision date + 7 working days by default)
    due in the last TIMELINESS_WINDOW_DAYS or later, per agency: published on time, late,
    still due, overdue; and the records near (within `near_days`) or past their deadline.

    A record counts as published when a delivery of a bulletin carrying it was acknowledged
    (or partially rejected, with other items) by a destination; the day is China's.
    """
    today = now.astimezone(CHINA).date()
    since = today - dt.timedelta(days=TIMELINESS_WINDOW_DAYS)
    r, bi, d = records.c, bulletin_items.c, deliveries.c
    published = (
        select(bi.record_uid.label("uid"), func.min(d.acknowledged_at).label("at"))
        .select_from(bulletin_items.join(deliveries, d.bulletin_id == bi.bulletin_id))
        .where(d.acknowledged_at.is_not(None), bi.record_uid.is_not(None))
        .group_by(bi.record_uid).subquery()
    )
    rows = conn.execute(
        select(r.uid, r.kind, r.publish_by, agencies.c.code, agencies.c.name, subjects.c.key.label("subject"),
               subjects.c.name.label("subject_name"), published.c.at)
        .select_from(records.join(agencies, agencies.c.id == r.agency_id)
                     .join(subjects, subjects.c.id == r.subject_id)
                     .outerjoin(published, published.c.uid == r.uid))
        .where(r.publish_by.is_not(None), r.publish_by >= since, r.status == "current", r.action == "publish")
        .order_by(r.publish_by, r.uid)
    ).all()
    per_agency: dict[str, dict[str, Any]] = {}
    near: list[dict[str, Any]] = []
    for row in rows:
        agg = per_agency.setdefault(row.code, {"agency": row.code, "name": row.name, "on_time": 0, "late": 0,
                                               "due": 0, "overdue": 0})
        if row.at is not None:
            day = _utc(row.at).astimezone(CHINA).date()
            agg["on_time" if day <= row.publish_by else "late"] += 1
            continue
        days_left = (row.publish_by - today).days
        agg["overdue" if days_left < 0 else "due"] += 1
        if days_left <= near_days and len(near) < limit:
            near.append({"record_uid": row.uid, "kind": row.kind, "agency": row.code, "subject": row.subject,
                         "subject_name": row.subject_name, "publish_by": row.publish_by, "days_left": days_left,
                         "overdue": days_left < 0})
    for agg in per_agency.values():
        settled = agg["on_time"] + agg["late"] + agg["overdue"]
        agg["on_time_rate"] = round(agg["on_time"] / settled, 4) if settled else None
    return {"window_days": TIMELINESS_WINDOW_DAYS, "agencies": sorted(per_agency.values(), key=lambda a: a["agency"]),
            "near_or_past": near}


def subjects_with_listing_records(conn: Connection, kinds: Sequence[str], first: dt.date, last: dt.date) -> set[int]:
    """Subjects with current records of `kinds` dated in [first, last] (the monthly report)."""
    q = (select(records.c.subject_id)
         .where(records.c.status == "current", records.c.kind.in_(list(kinds)), records.c.event_date >= first,
                records.c.event_date <= last).distinct())
    return {r[0] for r in conn.execute(q)}
