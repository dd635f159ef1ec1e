"""Working days on the official Chinese calendar (工作日), with make-up working days (调休).

Deadlines in the policy documents count working days: 双公示 within 7 working days of the
decision (docs/policy.md §8), removal applications within the 30 working days before expiry
(docs/policy.md §4). The State Council publishes each year's holidays late in the previous year;
`chinesecalendar` carries them, with the make-up working weekends, for the years it knows.

Which answer wins, for a day: the configured overrides (`GATEWAY_HOLIDAY_OVERRIDES`,
`GATEWAY_WORKDAY_OVERRIDES`); then the year's official notice an operator loaded as data
(`gateway calendar load FILE`, `YearNotice`); then `chinesecalendar`; and for a year none of
them covers, the estimate: Monday to Friday minus the statutory holidays
(`gateway.domain.holidays`), every answer that relied on it marked *estimated*, so a deadline
is never refused and never silently presented as certain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar

from gateway.domain.holidays import YearNotice, statutory_holidays


@lru_cache(maxsize=8192)
def _official(day: dt.date) -> tuple[bool, bool]:
    """(working day, estimated) on the official calendar; cached: chinesecalendar scans its
    whole holiday table on every call."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5 and day not in statutory_holidays(day.year), True


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
    notices: tuple[YearNotice, ...] = ()  # the official notices loaded as data, one per year

    @classmethod
    def with_overrides(
        cls, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
        notices: Iterable[YearNotice] = (),
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays), tuple(sorted(notices, key=lambda n: n.year)))

    def notice(self, year: int) -> YearNotice | None:
        return next((n for n in self.notices if n.year == year), None)

    def source_of(self, year: int) -> str:
        """What a year's answers rest on: "notice" (loaded), "official" (chinesecalendar) or "estimated"."""
        if self.notice(year) is not None:
            return "notice"
        return "official" if self.is_official(dt.date(year, 6, 1)) else "estimated"

    def is_official(self, day: dt.date) -> bool:
        """Whether the official calendar (a loaded notice or chinesecalendar) covers this day's year."""
        if self.notice(day.year) is not None:
            return True
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
        if self.notices and (notice := self.notice(day.year)) is not None:
            if day in notice.holidays:
                return False, False
            return (day.weekday() < 5 or day in notice.workdays), False
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


_OFFICIAL_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明",
                   "Labour Day": "劳动节", "Dragon Boat Festival": "端午", "Mid-autumn Festival": "中秋",
                   "National Day": "国庆", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


@dataclass(frozen=True)
class YearDay:
    date: dt.date
    kind: str  # "holiday" (a weekday off) | "workday" (a weekend worked, 调休)
    name: str  # the holiday it belongs to, when known


def year_days(calendar: WorkingCalendar, year: int) -> tuple[str, list[YearDay]]:
    """What is in force for `year`: its source ("notice", "official", "estimated") and the
    days that differ from Monday-to-Friday (weekdays off, weekends worked), overrides included."""
    estimate = statutory_holidays(year)
    out: list[YearDay] = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        working, _ = calendar.is_working_day(day)
        if working != (day.weekday() < 5):
            out.append(YearDay(day, "workday" if working else "holiday", _name(calendar, day, estimate)))
        day += dt.timedelta(days=1)
    return calendar.source_of(year), out


def _name(calendar: WorkingCalendar, day: dt.date, estimate: dict[dt.date, str]) -> str:
    if day in calendar.extra_holidays or day in calendar.extra_workdays:
        return "override"
    if calendar.notice(day.year) is not None:
        return estimate.get(day, "")
    try:
        _, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return estimate.get(day, "")
    return _OFFICIAL_NAMES.get(name, name or "")
