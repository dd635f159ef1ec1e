"""The one clock (docs/architecture.md: one clock, injectable, so tests can move time)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware (UTC)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, rehearsals)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now

    def set(self, when: dt.datetime) -> None:
        self._now = when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class RehearsalClock:
    """A rehearsal deployment's clock: it starts at a chosen instant (`GATEWAY_CLOCK_FIXED`) when
    the process starts and moves on with the wall clock from there, so "today" is the chosen
    day while leases, retries and timeouts still see time pass."""

    def __init__(self, start: dt.datetime, wall: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("a rehearsal clock needs an instant with its UTC offset, e.g. 2026-05-01T09:00+08:00")
        self._wall = wall or SystemClock()
        self._offset = start - self._wall.now()

    def now(self) -> dt.datetime:
        return (self._wall.now() + self._offset).astimezone(dt.UTC)


def clock_from_settings(settings: object) -> Clock:
    """The deployment's clock: the system clock, or a rehearsal clock starting at
    `settings.clock_fixed` (GATEWAY_CLOCK_FIXED) when it is set."""
    fixed = getattr(settings, "clock_fixed", None)
    return RehearsalClock(fixed) if fixed is not None else SystemClock()


def china_today(clock: Clock) -> dt.date:
    """The civil date in China, which is what policy periods and deadlines count in."""
    return clock.now().astimezone(CHINA_TZ).date()

