"""Circuit breaker per destination, shared by all workers through `destination_state`.

    closed ──N consecutive failures──▶ open ──open_seconds──▶ half_open (ONE probe delivery)
      ▲                                  ▲                        │
      └──────────── probe succeeds ──────┼────────────────────────┘
                                         └──── probe fails ───────┘

While open, the worker claims nothing for the destination, so waiting deliveries keep
their attempts (a destination that is down does not kill every delivery's retry budget).
Only transport-level failures count (network, timeout, 5xx, 429); a 4xx rejection is about
our content, not the destination's health.

The transitions are pure (`admission`, `after_success`, `after_failure`); the statements
below apply them atomically in the database so concurrent workers agree: exactly one of
them wins the probe (`try_start_probe` is a conditional UPDATE).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import Connection, and_, select, update

from gateway.store.delivery_tables import destination_state
from gateway.store.sql import insert_ignore

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class Admission(StrEnum):
    ALL = "all"  # closed: claim up to concurrency
    PROBE = "probe"  # open period over: one delivery may test the destination
    NONE = "none"  # open (or a probe is in flight): claim nothing


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5
    open_seconds: float = 60.0

    @classmethod
    def from_config(cls, config) -> BreakerPolicy:  # noqa: ANN001
        return cls(config.failure_threshold, config.open_seconds)


@dataclass(frozen=True)
class BreakerState:
    state: str = CLOSED
    consecutive_failures: int = 0
    opened_at: dt.datetime | None = None
    probe_at: dt.datetime | None = None
    last_error: str | None = None


# --- pure transitions ------------------------------------------------------------------


def admission(st: BreakerState, now: dt.datetime) -> Admission:
    if st.state == CLOSED:
        return Admission.ALL
    if st.probe_at is not None and st.probe_at <= now:
        return Admission.PROBE
    return Admission.NONE


def start_probe(st: BreakerState, now: dt.datetime, policy: BreakerPolicy) -> BreakerState:
    # probe_at moves on: if the probe's answer never comes (worker killed), another probe
    # is allowed one open period later
    return replace(st, state=HALF_OPEN, probe_at=now + dt.timedelta(seconds=policy.open_seconds))


def after_success(st: BreakerState) -> BreakerState:
    return BreakerState()


def after_failure(st: BreakerState, now: dt.datetime, policy: BreakerPolicy, error: str | None = None) -> BreakerState:
    failures = st.consecutive_failures + 1
    reopen = st.state == HALF_OPEN or (st.state == CLOSED and failures >= policy.failure_threshold)
    if reopen:
        return BreakerState(OPEN, failures, now, now + dt.timedelta(seconds=policy.open_seconds), error)
    return replace(st, consecutive_failures=failures, last_error=error)


# --- shared state in the database ------------------------------------------------------


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
