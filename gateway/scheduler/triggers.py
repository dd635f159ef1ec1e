"""Triggers and slots: when a job fires, and which period ("slot") a run is for.

A schedule is a cron string (5 fields), "hourly"/"nightly"/"daily", or an interval ("30s",
"5m", "2h"), in China civil time (Asia/Shanghai). A slot is the period a run is for: the
latest fire time at or before now, formatted as finely as the trigger's shortest gap
('2026-11-02' for a nightly job, '2026-11-22T03' for an hourly one), or for the monthly
report the month reported on ('2026-11', reported in December).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

CHINA = ZoneInfo("Asia/Shanghai")
REPORT_DUE_DAY = 2  # docs/policy.md §6: the monthly report reaches the level above by the 2nd
_ALIASES = {"hourly": "0 * * * *", "nightly": "0 2 * * *", "daily": "0 2 * * *"}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def parse_schedule(text: str) -> BaseTrigger:
    """A cron string (5 fields), "hourly"/"nightly"/"daily", or an interval ("30s", "5m", "2h")."""
    text = _ALIASES.get(text.strip().lower(), text.strip())
    m = _INTERVAL.match(text)
    if m:
        seconds = int(m[1]) * _UNIT[m[2]]
        if seconds <= 0:
            raise ValueError(f"schedule {text!r}: the interval must be positive")
        return IntervalTrigger(seconds=seconds, timezone=CHINA)
    try:
        return CronTrigger.from_crontab(text, timezone=CHINA)
    except ValueError as exc:
        raise ValueError(f"schedule {text!r}: {exc}") from None


def last_fire_time(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before `now` the trigger fires (cron), or the interval's bucket start."""
    now = now.astimezone(CHINA)
    if isinstance(trigger, IntervalTrigger):
        seconds = trigger.interval.total_seconds()
        epoch = now.timestamp()
        return dt.datetime.fromtimestamp(epoch - epoch % seconds, CHINA)
    for lookback in (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=32), dt.timedelta(days=400)):
        t = trigger.get_next_fire_time(None, now - lookback)
        last = None
        while t is not None and t <= now:
            last = t
            t = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
        if last is not None:
            return last
    return None


def slot_format(trigger: BaseTrigger, now: dt.datetime | None = None) -> str:
    """strftime format of a trigger's slots: as fine as its shortest gap between fires."""
    if isinstance(trigger, IntervalTrigger):
        gap = trigger.interval
    else:
        t = trigger.get_next_fire_time(None, (now or dt.datetime(2026, 1, 5, tzinfo=CHINA)).astimezone(CHINA))
        gap = dt.timedelta(days=366)
        for _ in range(24):
            if t is None:
                break
            nxt = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
            if nxt is None:
                break
            gap, t = min(gap, nxt - t), nxt
    if gap >= dt.timedelta(days=1):
        return "%Y-%m-%d"
    if gap >= dt.timedelta(hours=1):
        return "%Y-%m-%dT%H"
    if gap >= dt.timedelta(minutes=1):
        return "%Y-%m-%dT%H:%M"
    return "%Y-%m-%dT%H:%M:%S"


def periodic_slot(trigger: BaseTrigger) -> Callable[[dt.datetime], str | None]:
    fmt = slot_format(trigger)

    def slot_for(now: dt.datetime) -> str | None:
        last = last_fire_time(trigger, now)
        return last.strftime(fmt) if last else None

    return slot_for


def report_slot(trigger: BaseTrigger) -> Callable[[dt.datetime], str | None]:
    """The monthly report's slot is the month reported on: the month before the last fire."""

    def slot_for(now: dt.datetime) -> str | None:
        last = last_fire_time(trigger, now)
        if last is None:
            return None
        return (last.date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

    return slot_for


def report_due_on(month: str) -> dt.date:
    """The last day the report of `month` ('2026-11') may reach the level above: 2026-12-02."""
    first = dt.date.fromisoformat(month + "-01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=REPORT_DUE_DAY)
