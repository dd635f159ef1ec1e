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


def clock_from_settings(settings: object) -> Clock:
    """The deployment's clock: the system clock (a rehearsal's fixed clock is a test's FrozenClock)."""
    return SystemClock()


def china_today(clock: Clock) -> dt.date:
    """The civil date in China, which is what policy periods and deadlines count in."""
    return clock.now().astimezone(CHINA_TZ).date()

