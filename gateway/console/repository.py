"""What the console's pictures are drawn from (`gateway.console.charts`): deliveries and
backlog per destination by hour, the 双公示 on-time rate per agency by month, and the ages of
the changes waiting in the change feed. Reads only; a few rows per destination and hour."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select

from gateway.delivery.outbox import FINAL_STATES, State
from gateway.store.change_tables import subject_changes
from gateway.store.delivery_tables import bulletin_items, deliveries
from gateway.store.tables import agencies, records

CHINA = ZoneInfo("Asia/Shanghai")
DELIVERED = (State.ACKNOWLEDGED, State.PARTIALLY_REJECTED)
FEED_AGE_BUCKETS = ((60, "< 1 min"), (300, "1–5 min"), (3600, "5–60 min"), (86400, "1–24 h"), (None, "> 24 h"))


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def delivery_hours(conn: Connection, now: dt.datetime, hours: int = 24) -> dict[str, Any]:
    """Per destination, for each of the last `hours` hours: deliveries acknowledged in that hour
    and the backlog (created, not yet settled) at its end."""
    now = _utc(now)
    start = now - dt.timedelta(hours=hours)
    d = deliveries.c
    final = list(FINAL_STATES)
    rows = conn.execute(
        select(d.destination, d.state, d.created_at, d.updated_at, d.acknowledged_at)
        .where(d.created_at <= now,
               or_(d.state.not_in(final), d.acknowledged_at >= start, and_(d.state.in_(final), d.updated_at >= start)))
    ).all()
    ends = [start + dt.timedelta(hours=i + 1) for i in range(hours)]
    out: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        series = out.setdefault(row.destination, {"delivered": [0] * hours, "backlog": [0] * hours})
        created = _utc(row.created_at)
        settled = _utc(row.acknowledged_at) if row.acknowledged_at is not None else (
            _utc(row.updated_at) if row.state in FINAL_STATES else None)
        if row.state in DELIVERED and settled is not None and start <= settled <= now:
            series["delivered"][min(int((settled - start).total_seconds() // 3600), hours - 1)] += 1
        for i, end in enumerate(ends):
            if created <= end and (settled is None or settled > end):
                series["backlog"][i] += 1
    labels = [e.astimezone(CHINA).strftime("%H:00") for e in ends]
    return {"labels": labels, "destinations": dict(sorted(out.items()))}


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def on_time_by_month(conn: Connection, now: dt.datetime, months: int = 6) -> dict[str, Any]:
    """Per agency and month of the deadline (`publish_by`): the share of records published on
    time among those published or past their deadline (None when none is yet)."""
    today = _utc(now).astimezone(CHINA).date()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    labels, cursor = [], first
    while cursor <= today:
        labels.append(_month(cursor))
        cursor = (cursor.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    r, bi, d = records.c, bulletin_items.c, deliveries.c
    published = (
        select(bi.record_uid.label("uid"), func.min(d.acknowledged_at).label("at"))
        .select_from(bulletin_items.join(deliveries, d.bulletin_id == bi.bulletin_id))
        .where(d.acknowledged_at.is_not(None), bi.record_uid.is_not(None))
        .group_by(bi.record_uid).subquery()
    )
    rows = conn.execute(
        select(r.publish_by, agencies.c.code, published.c.at)
        .select_from(records.join(agencies, agencies.c.id == r.agency_id)
                     .outerjoin(published, published.c.uid == r.uid))
        .where(r.publish_by.is_not(None), r.publish_by >= first, r.status == "current", r.action == "publish")
    ).all()
    counts: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        month = _month(row.publish_by)
        if month not in labels:
            continue
        i = labels.index(month)
        agg = counts.setdefault(row.code, {"on_time": [0] * len(labels), "settled": [0] * len(labels)})
        if row.at is not None:
            agg["settled"][i] += 1
            agg["on_time"][i] += _utc(row.at).astimezone(CHINA).date() <= row.publish_by
        elif row.publish_by < today:
            agg["settled"][i] += 1  # overdue
    rates = {code: [round(o / s, 4) if s else None for o, s in zip(agg["on_time"], agg["settled"], strict=True)]
             for code, agg in sorted(counts.items())}
    return {"labels": labels, "agencies": rates}


def feed_ages(conn: Connection, now: dt.datetime) -> dict[str, Any]:
    """The changes waiting to be decided, by how long they have waited (the change-feed lag)."""
    now = _utc(now)
    c = subject_changes.c
    ages = [(now - _utc(row.enqueued_at)).total_seconds()
            for row in conn.execute(select(c.enqueued_at).where(c.state == "pending"))]
    counts = [0] * len(FEED_AGE_BUCKETS)
    for age in ages:
        for i, (limit, _) in enumerate(FEED_AGE_BUCKETS):
            if limit is None or age < limit:
                counts[i] += 1
                break
    quarantined = conn.execute(select(func.count()).where(c.state == "quarantined")).scalar_one()
    return {"labels": [label for _, label in FEED_AGE_BUCKETS], "pending": counts,
            "oldest_seconds": max(ages) if ages else 0.0, "quarantined": int(quarantined)}
