"""The statutory holidays of a year, for years the official calendar does not cover yet, and
the official notice of a year as data (docs/policy.md, "Rules 8-12", rule 11).

The estimate (`statutory_holidays`) follows 《全国年节及纪念日放假办法》 as revised in 2024 (in
force 2025-01-01): 元旦 1 January; 春节 农历除夕 and 正月初一 to 初三; 清明 (the solar term);
劳动节 1-2 May; 端午 农历五月初五; 中秋 农历八月十五; 国庆 1-3 October. The lunar dates come
from `lunardate`, the solar term from `chinese_calendar`'s solar-term table. It cannot know
the State Council's 调休 (holidays joined into a block, make-up working weekends): that is
what the year's notice (`YearNotice`, loaded by an operator with `gateway calendar load`)
supplies, and why every answer that relied on the estimate is marked estimated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import chinese_calendar
from lunardate import LunarDate


class NoticeError(ValueError):
    """A calendar notice that cannot be read; the message names the field."""


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The statutory holidays of `year` (date -> name), weekends not included."""
    days: dict[dt.date, str] = {dt.date(year, 1, 1): "元旦"}
    new_year = LunarDate(year, 1, 1).to_solar_date()
    for i in range(-1, 3):  # 除夕 and 初一-初三
        days[new_year + dt.timedelta(days=i)] = "春节"
    for day, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10)):
        if name == "清明":
            days[day] = "清明"
    days[dt.date(year, 5, 1)] = days[dt.date(year, 5, 2)] = "劳动节"
    days[LunarDate(year, 5, 5).to_solar_date()] = "端午"
    days[LunarDate(year, 8, 15).to_solar_date()] = "中秋"
    for d in (1, 2, 3):
        days[dt.date(year, 10, d)] = "国庆"
    return dict(sorted(days.items()))


@dataclass(frozen=True)
class YearNotice:
    """The State Council's holiday notice for one year: its holidays and make-up working days."""

    year: int
    source: str
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "source": self.source,
                "holidays": [d.isoformat() for d in sorted(self.holidays)],
                "workdays": [d.isoformat() for d in sorted(self.workdays)]}


def _day(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise NoticeError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from None


def _days(items: Any, where: str) -> set[dt.date]:
    """Dates, or {from, to} ranges (both included)."""
    if items is None:
        return set()
    if not isinstance(items, list):
        raise NoticeError(f"{where}: a list of dates or {{from, to}} ranges")
    out: set[dt.date] = set()
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            start, end = _day(item.get("from"), f"{where}[{i}].from"), _day(item.get("to"), f"{where}[{i}].to")
            if end < start or (end - start).days > 31:
                raise NoticeError(f"{where}[{i}]: 'to' must follow 'from' within 31 days")
            out.update(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
        else:
            out.add(_day(item, f"{where}[{i}]"))
    return out


def notice_from_mapping(data: Any) -> YearNotice:
    """A notice from its data file's content (see docs/policy.md, rule 11, for the format)."""
    if not isinstance(data, Mapping):
        raise NoticeError("a notice is a mapping with year, source, holidays, workdays")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise NoticeError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2099:
        raise NoticeError(f"year: a year between 2000 and 2099 (got {year!r})")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise NoticeError("source: the notice's reference (e.g. 国办发明电〔2026〕N号) is required")
    holidays, workdays = _days(data.get("holidays"), "holidays"), _days(data.get("workdays"), "workdays")
    if not holidays:
        raise NoticeError("holidays: at least one holiday")
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        if stray := sorted(d for d in days if d.year != year):
            raise NoticeError(f"{name}: {stray[0].isoformat()} is not in {year}")
    if both := sorted(holidays & workdays):
        raise NoticeError(f"{both[0].isoformat()} is both a holiday and a working day")
    if weekday := sorted(d for d in workdays if d.weekday() < 5):
        raise NoticeError(f"workdays: {weekday[0].isoformat()} is a weekday already (make-up days are weekends)")
    return YearNotice(year, source.strip(), frozenset(holidays), frozenset(workdays))
