"""What operators watch, read from the database: one place for the SQL behind `/metrics`
(gauges computed at scrape time, so every process reports the same shared truth) and
`GET /v1/ops/summary` (the console).

Every function takes an open connection (read transaction) and returns plain data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, func, literal, select

from gateway.delivery.outbox import STATES, State
from gateway.store.delivery_tables import (
    bulletin_items,
    deliveries,
    delivery_attempts,
    destination_state,
    receipt_items,
)
from gateway.store.policy_tables import list_entries
from gateway.store.tables import agencies, records, subjects

CHINA = ZoneInfo("Asia/Shanghai")
QUEUED_STATES = (State.PENDING, State.RETRY_WAIT, State.SENDING)
# send latency histogram buckets (seconds), also used for the metric
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# list entry states that wait for an operator, and what they wait for
AWAITING = {
    "proposed": "notify the subject (告知书)",
    "notified": "confirm or drop once the argument deadline has passed",
    "confirmed": "publish",
    "objection": "uphold or correct the objection (异议)",
    "removal_requested": "remove (信用修复)",
    "applied": "review the incentive application",
    "reviewed": "publish the incentive entry",
}
TIMELINESS_WINDOW_DAYS = 90  # publication timeliness counts records due in this window


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _age(now: dt.datetime, since: dt.datetime | None) -> float | None:
    since = _utc(since)
    return None if since is None else max(0.0, (now - since).total_seconds())


# --- the outbox ----------------------------------------------------------------------------


def queues(conn: Connection, now: dt.datetime) -> list[dict[str, Any]]:
    """Deliveries per (destination, state), with the oldest one's age."""
    d = deliveries.c
    rows = conn.execute(
        select(d.destination, d.state, func.count().label("n"), func.min(d.created_at).label("oldest"))
        .group_by(d.destination, d.state).order_by(d.destination, d.state)
    ).all()
    return [{"destination": r.destination, "state": r.state, "count": int(r.n),
             "oldest_age_seconds": _age(now, r.oldest)} for r in rows]


def oldest_pending(conn: Connection, now: dt.datetime) -> dict[str, float]:
    """Per destination: seconds since the oldest delivery still queued (pending, retry_wait,
    sending) was created: the backlog's age, whatever its size."""
    d = deliveries.c
    rows = conn.execute(
        select(d.destination, func.min(d.created_at)).where(d.state.in_(QUEUED_STATES)).group_by(d.destination)
    ).all()
    return {r[0]: _age(now, r[1]) or 0.0 for r in rows}


def dead_letters(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    d = deliveries.c
    rows = conn.execute(
        select(d.delivery_id, d.bulletin_id, d.destination, d.attempts, d.last_error, d.updated_at)
        .where(d.state == State.DEAD).order_by(d.updated_at.desc(), d.delivery_id).limit(limit)
    ).all()
    return [{"delivery_id": r.delivery_id, "bulletin_id": r.bulletin_id, "destination": r.destination,
             "attempts": r.attempts, "last_error": r.last_error, "updated_at": _utc(r.updated_at)} for r in rows]


def awaiting_receipts(conn: Connection, now: dt.datetime, timeouts: dict[str, float], limit: int = 100
                      ) -> list[dict[str, Any]]:
    """Deliveries awaiting a receipt past their destination's receipt timeout (or flagged
    overdue by the receipt check)."""
    d = deliveries.c
    rows = conn.execute(
        select(d.delivery_id, d.bulletin_id, d.destination, d.sent_at, d.receipt_overdue)
        .where(d.state == State.AWAITING_RECEIPT).order_by(d.sent_at)
    ).all()
    found = []
    for r in rows:
        waited = _age(now, r.sent_at)
        timeout = timeouts.get(r.destination)
        late = bool(r.receipt_overdue) or (timeout is not None and waited is not None and waited >= timeout)
        if late:
            found.append({"delivery_id": r.delivery_id, "bulletin_id": r.bulletin_id, "destination": r.destination,
                          "sent_at": _utc(r.sent_at), "waiting_seconds": waited, "flagged": bool(r.receipt_overdue)})
        if len(found) >= limit:
            break
    return found


def receipt_waits(conn: Connection, now: dt.datetime) -> dict[str, tuple[int, float]]:
    """Per destination: (deliveries awaiting a receipt, seconds the oldest has waited)."""
    d = deliveries.c
    rows = conn.execute(
        select(d.destination, func.count(), func.min(d.sent_at))
        .where(d.state == State.AWAITING_RECEIPT).group_by(d.destination)
    ).all()
    return {r[0]: (int(r[1]), _age(now, r[2]) or 0.0) for r in rows}


def receipt_lags(conn: Connection, now: dt.datetime, hours: int = 24) -> dict[str, list[float]]:
    """Per destination: seconds from sending to the receipt, for deliveries settled in the
    last `hours` (computed here, not in SQL: date arithmetic differs between the backends)."""
    d = deliveries.c
    rows = conn.execute(
        select(d.destination, d.sent_at, d.acknowledged_at)
        .where(d.acknowledged_at.is_not(None), d.sent_at.is_not(None),
               d.acknowledged_at >= now - dt.timedelta(hours=hours))
    ).all()
    lags: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        lags[r.destination].append(max(0.0, (_utc(r.acknowledged_at) - _utc(r.sent_at)).total_seconds()))
    return dict(lags)


def attempts(conn: Connection) -> list[tuple[str, str, int]]:
    """(destination, outcome, attempts) over the whole attempt log: a counter shared by all workers."""
    a, d = delivery_attempts.c, deliveries.c
    rows = conn.execute(
        select(d.destination, a.outcome, func.count())
        .select_from(delivery_attempts.join(deliveries, d.delivery_id == a.delivery_id))
        .group_by(d.destination, a.outcome)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def send_latency(conn: Connection) -> dict[str, tuple[list[int], int, float]]:
    """Per destination: cumulative counts per SEND_BUCKETS bound, total count and sum (seconds)
    of the attempts' durations: a histogram computed by one grouped query."""
    a, d = delivery_attempts.c, deliveries.c
    seconds = a.duration_ms / 1000.0
    columns = [func.sum(case((seconds <= b, 1), else_=0)) for b in SEND_BUCKETS]
    rows = conn.execute(
        select(d.destination, func.count(), func.coalesce(func.sum(seconds), literal(0.0)), *columns)
        .select_from(delivery_attempts.join(deliveries, d.delivery_id == a.delivery_id))
        .where(a.duration_ms.is_not(None))
        .group_by(d.destination)
    ).all()
    return {r[0]: ([int(v or 0) for v in r[3:]], int(r[1]), float(r[2] or 0.0)) for r in rows}


def breakers(conn: Connection) -> list[dict[str, Any]]:
    s = destination_state.c
    rows = conn.execute(select(destination_state).order_by(s.destination)).all()
    return [{"destination": r.destination, "state": r.state, "consecutive_failures": r.consecutive_failures,
             "opened_at": _utc(r.opened_at), "probe_at": _utc(r.probe_at), "last_error": r.last_error,
             "updated_at": _utc(r.updated_at)} for r in rows]


def rejected_by_agency(conn: Connection) -> list[dict[str, Any]]:
    """Items destinations rejected, counted per source agency (the agency must fix them)."""
    ri, bi, d = receipt_items.c, bulletin_items.c, deliveries.c
    rows = conn.execute(
        select(agencies.c.code, agencies.c.name, func.count().label("items"),
               func.count(func.distinct(ri.delivery_id)).label("deliveries"))
        .select_from(receipt_items)
        .join(deliveries, d.delivery_id == ri.delivery_id)
        .join(bulletin_items, and_(bi.bulletin_id == d.bulletin_id, bi.item_id == ri.item_id))
        .outerjoin(records, records.c.uid == bi.record_uid)
        .outerjoin(agencies, agencies.c.id == records.c.agency_id)
        .where(ri.status == "rejected")
        .group_by(agencies.c.code, agencies.c.name)
        .order_by(func.count().desc())
    ).all()
    return [{"agency": r.code, "name": r.name, "items": int(r.items), "deliveries": int(r.deliveries)} for r in rows]


# --- 双公示 publication timeliness ------------------------------------------------------------


def publication(conn: Connection, now: dt.datetime, *, near_days: int = 2, limit: int = 200) -> dict[str, Any]:
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


# --- list entries --------------------------------------------------------------------------


def list_entry_counts(conn: Connection) -> list[tuple[str, str, int]]:
    le = list_entries.c
    rows = conn.execute(select(le.list_kind, le.state, func.count()).group_by(le.list_kind, le.state)).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def awaiting_action(services: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Open list entries waiting for an operator (notice, confirmation, publication, objection,
    removal window), each with its allowed actions, via the policy service's own view."""
    from gateway import policy_service

    policy = policy_service.get(services)
    today = policy.today()
    found: list[dict[str, Any]] = []
    for state, why in AWAITING.items():
        items, _ = policy.entries(state=state, limit=limit)
        for item in items:
            item = dict(item)
            item["awaiting"] = why
            if state == "notified" and item.get("argument_deadline"):
                item["argument_window_open"] = dt.date.fromisoformat(item["argument_deadline"]) >= today
            found.append(item)
    # published entries whose removal window the daily sweep saw open
    items, _ = policy.entries(state="published", limit=limit)
    for item in items:
        if item.get("removal_window_flagged_on"):
            found.append({**item, "awaiting": "removal window open: the subject may ask for removal"})
    found.sort(key=lambda e: e.get("created_at") or "")
    return found[:limit]


# --- trust ---------------------------------------------------------------------------------


def certificates(services: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Signing certificates (and the destinations' pinned certificates when configured)."""
    found: list[dict[str, Any]] = []
    try:
        keyring = services.keyring
    except Exception:  # noqa: BLE001 - no keys installed: nothing to report
        keyring = None
    if keyring is not None:
        active = keyring.active.key_id if len(keyring) else None
        for key in keyring:
            found.append({"kind": "signing", "key_id": key.key_id, "subject": key.subject,
                          "not_after": key.not_after, "days_left": _days_left(key.not_after, now),
                          "active": key.key_id == active})
    registry = services.extras.get("destinations")
    if registry is not None:
        for name in registry.names():
            try:
                trust = registry.trust(name)
            except Exception:  # noqa: BLE001 - misconfigured trust is reported by /readyz, not here
                continue
            for cert in (*trust.pinned, *trust.anchors):
                not_after = cert.not_valid_after_utc
                found.append({"kind": "destination", "key_id": name, "subject": cert.subject.rfc4514_string(),
                              "not_after": not_after, "days_left": _days_left(not_after, now), "active": True})
    return found


def _days_left(not_after: dt.datetime, now: dt.datetime) -> int:
    return int((not_after - now).total_seconds() // 86400)


def receipt_timeouts(services: Any) -> dict[str, float]:
    registry = services.extras.get("destinations")
    if registry is None:
        return {}
    return {n: float(registry.get(n).receipt_timeout_seconds) for n in registry.names(enabled_only=False)}


__all__ = ["STATES", "AWAITING", "SEND_BUCKETS", "queues", "oldest_pending", "dead_letters", "awaiting_receipts",
           "receipt_waits", "receipt_lags", "attempts", "send_latency", "breakers", "rejected_by_agency",
           "publication", "list_entry_counts", "awaiting_action", "certificates", "receipt_timeouts"]
