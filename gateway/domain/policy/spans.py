"""The building blocks of a profile: calendar spans (periods and windows stated as years,
months and days), cited entries, keys.

`Span.after(day)` adds years and months first (a month-end day is kept in range: 31 Jan +
1 month = 28/29 Feb, 29 Feb + 1 year = 28 Feb), then days. Windows and periods in the
profiles are spans, so "365 days" and "12 months" are both stated as data.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property, lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Model):
    """A calendar period: years, months and days added in that order (31 Jan + 1 month = 28/29 Feb)."""

    years: int = Field(0, ge=0, le=100)
    months: int = Field(0, ge=0, le=1200)
    days: int = Field(0, ge=0, le=36500)

    @model_validator(mode="after")
    def _not_empty(self) -> Span:
        if not (self.years or self.months or self.days):
            raise ValueError("a period needs years, months or days greater than 0")
        return self

    def after(self, day: dt.date) -> dt.date:
        return _shift(day, self.years * 12 + self.months, self.days)

    def before(self, day: dt.date) -> dt.date:
        return _shift(day, -(self.years * 12 + self.months), -self.days)

    @cached_property
    def _texts(self) -> tuple[str, str]:
        en = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        zh = [(self.years, "年"), (self.months, "个月"), (self.days, "天")]
        return (
            " ".join(f"{n} {unit}{'s' if n > 1 else ''}" for n, unit in en if n),
            "".join(f"{n}{unit}" for n, unit in zh if n),
        )

    def describe(self) -> str:
        return self._texts[0]

    def describe_zh(self) -> str:
        return self._texts[1]


@lru_cache(maxsize=1 << 16)  # pure; the consumer shifts the same few hundred days by every span of the profile
def _shift(day: dt.date, months: int, days: int) -> dt.date:
    if months:
        total = day.year * 12 + day.month - 1 + months
        year, month = divmod(total, 12)
        month += 1
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        day = dt.date(year, month, min(day.day, last))
    return day + dt.timedelta(days=days)


Key = str  # profile keys are snake_case identifiers
_KEY = r"^[a-z][a-z0-9_]*$"


class Cited(_Model):
    """Every profile entry says where it comes from."""

    rules: str = Field(pattern=r"^§\d+")
    source: str = Field(min_length=1)
    text_zh: str = ""
    text_en: str = ""
