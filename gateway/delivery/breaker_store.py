"""The breaker's SQL: `destination_state`, shared by every worker (`gateway.delivery.breaker`
holds the pure transitions; these statements apply them atomically)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, select, update

from gateway.delivery.breaker import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, BreakerState
from gateway.store.delivery_tables import destination_state
from gateway.store.sql import insert_ignore


def _ensure(conn: Connection, destination: str, now: dt.datetime) -> None:
    insert_ignore(conn, destination_state, [{"destination": destination, "state": CLOSED,
                                              "consecutive_failures": 0, "updated_at": now}], ["destination"])


def load(conn: Connection, destination: str) -> BreakerState:
    row = conn.execute(select(destination_state).where(destination_state.c.destination == destination)).first()
    if row is None:
        return BreakerState()
    return BreakerState(row.state, row.consecutive_failures, row.opened_at, row.probe_at, row.last_error)


def load_all(conn: Connection) -> dict[str, BreakerState]:
    return {
        r.destination: BreakerState(r.state, r.consecutive_failures, r.opened_at, r.probe_at, r.last_error)
        for r in conn.execute(select(destination_state))
    }


def try_start_probe(conn: Connection, destination: str, now: dt.datetime, policy: BreakerPolicy) -> bool:
    """Atomically take the one probe of an open breaker whose open period is over."""
    t = destination_state.c
    result = conn.execute(
        update(destination_state)
        .where(and_(t.destination == destination, t.state.in_((OPEN, HALF_OPEN)), t.probe_at <= now))
        .values(state=HALF_OPEN, probe_at=now + dt.timedelta(seconds=policy.open_seconds), updated_at=now)
    )
    return result.rowcount == 1


def record_success(conn: Connection, destination: str, now: dt.datetime) -> None:
    t = destination_state.c
    conn.execute(
        update(destination_state)
        .where(and_(t.destination == destination, (t.state != CLOSED) | (t.consecutive_failures != 0)))
        .values(state=CLOSED, consecutive_failures=0, opened_at=None, probe_at=None, last_error=None, updated_at=now)
    )


def record_failure(conn: Connection, destination: str, now: dt.datetime, policy: BreakerPolicy,
                   error: str | None = None) -> BreakerState:
    """Count a failure and open the breaker at the threshold (or re-open it after a failed probe)."""
    _ensure(conn, destination, now)
    t = destination_state.c
    probe_at = now + dt.timedelta(seconds=policy.open_seconds)
    conn.execute(update(destination_state).where(t.destination == destination)
                 .values(consecutive_failures=t.consecutive_failures + 1, last_error=error, updated_at=now))
    conn.execute(
        update(destination_state)
        .where(and_(t.destination == destination,
                    (t.state == HALF_OPEN)
                    | and_(t.state == CLOSED, t.consecutive_failures >= policy.failure_threshold)))
        .values(state=OPEN, opened_at=now, probe_at=probe_at)
    )
    return load(conn, destination)


def reset(conn: Connection, destination: str, now: dt.datetime) -> None:
    """Operator override: close the breaker."""
    _ensure(conn, destination, now)
    record_success(conn, destination, now)


def rows(conn: Connection) -> list[Any]:
    """Every destination's breaker row, by name (the console, the metrics)."""
    return list(conn.execute(select(destination_state).order_by(destination_state.c.destination)))
