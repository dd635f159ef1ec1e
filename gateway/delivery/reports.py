"""What operators watch of the outbox, read from the database (the SQL behind `/metrics` and
the console's summary): queues per destination and state, dead letters, receipts awaited,
attempts and their latency, items rejected per source agency.

Every function takes an open connection (read transaction) and returns plain data; gauges are
computed at scrape time, so every process reports the same shared truth.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select

from gateway.delivery.outbox import State
from gateway.store.delivery_tables import (
    bulletin_items,
    deliveries,
    delivery_attempts,
    receipt_items,
    receipts,
)
from gateway.store.tables import agencies, records

QUEUED_STATES = (State.PENDING, State.RETRY_WAIT, State.SENDING)
# send latency histogram buckets (seconds), also used for the metric
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _age(now: dt.datetime, since: dt.datetime | None) -> float | None:
    since = _utc(since)
    return None if since is None else max(0.0, (now - since).total_seconds())


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


def receipt_conflicts(conn: Connection) -> dict[str, int]:
    """Signed receipts kept as conflicts (a settled delivery answered again with other outcomes), by destination."""
    r, d = receipts.c, deliveries.c
    rows = conn.execute(select(d.destination, func.count()).join(deliveries, d.delivery_id == r.delivery_id)
                        .where(r.verified.is_(True), r.conflict.is_(True)).group_by(d.destination))
    return {destination: n for destination, n in rows}


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


def destination_summary(conn: Connection, destination: str) -> dict[str, Any]:
    """One destination's totals: bulletins and items, deliveries by state, attempts, verified
    receipts by channel, item outcomes (what the demo and the console print)."""
    from gateway.store.delivery_tables import bulletins, receipts

    b, d, a, r, ri = bulletins.c, deliveries.c, delivery_attempts.c, receipts.c, receipt_items.c
    n_bulletins, n_items = conn.execute(select(func.count(), func.coalesce(func.sum(b.item_count), 0))
                                        .where(b.destination == destination)).one()
    states = dict(conn.execute(select(d.state, func.count()).where(d.destination == destination).group_by(d.state)).all())
    attempts = conn.execute(select(func.count()).select_from(delivery_attempts)
                            .join(deliveries, d.delivery_id == a.delivery_id).where(d.destination == destination)).scalar()
    channels = dict(conn.execute(select(r.channel, func.count()).join(deliveries, d.delivery_id == r.delivery_id)
                                 .where(d.destination == destination, r.verified.is_(True)).group_by(r.channel)).all())
    outcomes = dict(conn.execute(select(ri.status, func.count()).join(deliveries, d.delivery_id == ri.delivery_id)
                                 .where(d.destination == destination).group_by(ri.status)).all())
    return {"destination": destination, "bulletins": int(n_bulletins), "items": int(n_items), "states": states,
            "attempts": int(attempts or 0), "receipts": channels, "accepted": outcomes.get("accepted", 0),
            "rejected": outcomes.get("rejected", 0)}
