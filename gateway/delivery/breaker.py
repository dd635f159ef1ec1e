"""Circuit breaker per destination, shared by all workers through `destination_state`.

    closed ──N consecutive failures──▶ open ──open_seconds──▶ half_open (ONE probe delivery)
      ▲                                  ▲                        │
      └──────────── probe succeeds ──────┼────────────────────────┘
                                         └──── probe fails ───────┘

While open, the worker claims nothing for the destination, so waiting deliveries keep
their attempts (a destination that is down does not kill every delivery's retry budget).
Only transport-level failures count (network, timeout, 5xx, 429); a 4xx rejection is about
our content, not the destination's health.

The transitions are pure (`admission`, `after_success`, `after_failure`); the statements in
`gateway.delivery.breaker_store` apply them atomically in the database so concurrent workers
agree: exactly one of them wins the probe (`try_start_probe` is a conditional UPDATE).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

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
