"""Working days on the official Chinese calendar (工作日), with make-up working days (调休).

Deadlines in the policy documents count working days: 双公示 within 7 working days of the
decision (docs/policy.md §8), removal applications within the 30 working days before expiry
(docs/policy.md §4). The State Council publishes each year's holidays late in the previous year;
`chinesecalendar` carries them, with the make-up working weekends, for the years it knows.

For a year it does not know, the calendar falls back to "Monday to Friday, minus configured
holidays, plus configured make-up days" and marks every answer that relied on it as
*estimated*, so a deadline is never refused and never silently presented as certain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def _official(day: dt.date) -> tuple[bool, bool]:
    """(working day, estimated) on the official calendar; cached: chinesecalendar scans its
    whole holiday table on every call."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


@lru_cache(maxsize=16384)
def _add_working_days(calendar: WorkingCalendar, start: dt.date, days: int) -> WorkingDate:
    return calendar._add(start, days)


@dataclass(frozen=True)
class WorkingDate:
    """A date computed by counting working days; `estimated` when a fallback year was used."""

    date: dt.date
    estimated: bool


@dataclass(frozen=True)
class WorkingCalendar:
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def with_overrides(
        cls, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_official(self, day: dt.date) -> bool:
        """Whether the official calendar covers this day's year."""
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: dt.date) -> tuple[bool, bool]:
        """(is a working day, estimated). Overrides win over the official calendar."""
        if day in self.extra_holidays:
            return False, False
        if day in self.extra_workdays:
            return True, False
        return _official(day)

    def add_working_days(self, start: dt.date, days: int) -> WorkingDate:
        return _add_working_days(self, start, days)

    def _add(self, start: dt.date, days: int) -> WorkingDate:
        """The date `days` working days after `start` (start itself not counted).

        `days` may be negative to count backwards. Zero returns `start`.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        day = start
        estimated = False
        while remaining:
            day += dt.timedelta(days=step)
            working, est = self.is_working_day(day)
            estimated = estimated or est
            if working:
                remaining -= 1
        return WorkingDate(day, estimated)

    def working_days_between(self, start: dt.date, end: dt.date) -> tuple[int, bool]:
        """Working days in (start, end]; negative when end precedes start."""
        if end < start:
            n, est = self.working_days_between(end, start)
            return -n, est
        count, estimated = 0, False
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            working, est = self.is_working_day(day)
            estimated = estimated or est
            count += working
        return count, estimated
