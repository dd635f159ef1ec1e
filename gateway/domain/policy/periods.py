"""List entry periods (管理期限): start, expiry, removal and reapplication windows.

- Joint punishment / blacklist (docs/policy.md §4, `001` §三(四)1(4)): the entry runs for the
  profile's period (one year municipal, three years national). Municipal: the subject may
  apply for removal within the 30 working days before expiry, counted backwards on the
  official working calendar (holidays skipped, make-up weekends counted). National
  (docs/policy.md §10): early removal may be requested once 12 months have passed.
- Incentive list (docs/policy.md §5, `001` §三(四)2(4)): three years from announcement; the unit
  may reapply from 3 months before expiry.

`expires_on` is the first day the entry no longer applies (start + period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from gateway.domain.calendar import WorkingCalendar, WorkingDate
from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class EntryPeriod(Output):
    list_kind: str
    starts_on: dt.date
    expires_on: dt.date
    removal_window_opens_on: dt.date | None  # municipal: 30 working days before expiry
    removal_window_estimated: bool  # the working calendar fell back to an estimate
    early_removal_from: dt.date | None  # national: 12 months after the start
    reapply_from: dt.date | None  # incentive: 3 months before expiry
    reasons: tuple[Reason, ...]


@lru_cache(maxsize=65536)
def _is_working_day(calendar: WorkingCalendar, day: dt.date) -> tuple[bool, bool]:
    return calendar.is_working_day(day)


@lru_cache(maxsize=65536)
def add_working_days(calendar: WorkingCalendar, start: dt.date, days: int) -> WorkingDate:
    """`calendar.add_working_days`, with each day's answer remembered: subjects share dates,
    and the official calendar lookup is slow enough to dominate a batch otherwise."""
    step = dt.timedelta(days=1 if days >= 0 else -1)
    remaining = abs(days)
    day = start
    estimated = False
    while remaining:
        day += step
        working, est = _is_working_day(calendar, day)
        estimated = estimated or est
        remaining -= working
    return WorkingDate(day, estimated)


def entry_period(
    list_kind: str, starts_on: dt.date, profile: Profile, calendar: WorkingCalendar
) -> EntryPeriod:
    """The period of an entry on `list_kind` ("joint_punishment", "blacklist" or "incentive")."""
    if list_kind == "incentive":
        ip = profile.incentive
        expires = ip.period.after(starts_on)
        reapply = ip.reapply_before_expiry.before(expires)
        return EntryPeriod(
            list_kind,
            starts_on,
            expires,
            None,
            False,
            None,
            reapply,
            (
                reason(
                    "incentive_period",
                    (),
                    "incentive.period",
                    ip,
                    f"管理期限 {ip.period.describe_zh()}，{reapply.isoformat()} 起可再次申请",
                    f"period {ip.period.describe()}; reapply from {reapply.isoformat()}",
                ),
            ),
        )
    try:
        lp = profile.lists[list_kind]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"profile {profile.name!r} has no list {list_kind!r}") from None
    expires = lp.period.after(starts_on)
    reasons = [
        reason(
            f"{list_kind}_period",
            (),
            f"lists.{list_kind}.period",
            lp,
            f"管理期限 {lp.period.describe_zh()}，至 {expires.isoformat()}",
            f"period {lp.period.describe()}, until {expires.isoformat()}",
        )
    ]
    opens: dt.date | None = None
    estimated = False
    rm = lp.removal
    if rm.window_before_expiry_working_days:
        wd = add_working_days(calendar, expires, -rm.window_before_expiry_working_days)
        opens, estimated = wd.date, wd.estimated
        reasons.append(
            reason(
                "removal_window",
                (),
                f"lists.{list_kind}.removal.window_before_expiry_working_days",
                rm,
                f"{opens.isoformat()} 起可申请移除" + ("（估算）" if estimated else ""),
                f"from {opens.isoformat()}" + (" (estimated)" if estimated else ""),
            )
        )
    early = rm.early_after.after(starts_on) if rm.early_after else None
    if early is not None:
        reasons.append(
            reason(
                "early_removal",
                (),
                f"lists.{list_kind}.removal.early_after",
                rm,
                f"{early.isoformat()} 起可申请提前移出",
                f"early removal may be requested from {early.isoformat()}",
            )
        )
    if early is not None and early >= expires:
        early = None
    return EntryPeriod(list_kind, starts_on, expires, opens, estimated, early, None, tuple(reasons))
