"""List entry periods: expiry, removal window on the working calendar, reapplication (docs/policy.md §4, §5, §10)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from gateway.domain.policy import entry_period
from tests.policy.policy_builders import CALENDAR, MUNICIPAL, NATIONAL, D


def test_removal_window_opens_30_working_days_before_expiry_across_the_national_day_holiday():
    # Listed 2024-10-20, expires 2025-10-20. Counting back 30 working days on the 2025 calendar:
    # Oct 17-13 (5), Sat Oct 11 make-up (6), Oct 10-9 (8), Oct 1-8 holiday skipped, Sep 30-29 (10),
    # Sun Sep 28 make-up (11), Sep 26-22 (16), Sep 19-15 (21), Sep 12-8 (26), Sep 5-2 (30).
    period = entry_period("joint_punishment", D("2024-10-20"), MUNICIPAL, CALENDAR)
    assert period.expires_on == D("2025-10-20")
    assert period.removal_window_opens_on == D("2025-09-02")
    assert period.removal_window_estimated is False


def test_chinese_calendar_2025_national_day_facts_the_window_relies_on():
    assert all(not chinese_calendar.is_workday(D("2025-10-01") + dt.timedelta(days=i)) for i in range(8))
    assert chinese_calendar.is_workday(D("2025-09-28")) and chinese_calendar.is_workday(D("2025-10-11"))
    opens = D("2025-09-02")
    days = sum(
        chinese_calendar.is_workday(opens + dt.timedelta(days=i))
        for i in range((D("2025-10-20") - opens).days)
    )
    assert days == 30  # the window holds exactly 30 working days before expiry


def test_removal_window_in_a_year_the_calendar_does_not_know_is_estimated():
    period = entry_period("blacklist", D("2098-03-02"), MUNICIPAL, CALENDAR)
    assert period.expires_on == D("2099-03-02")
    assert period.removal_window_estimated is True
    assert period.removal_window_opens_on < period.expires_on


def test_national_entry_runs_three_years_with_early_removal_after_twelve_months():
    period = entry_period("joint_punishment", D("2024-02-29"), NATIONAL, CALENDAR)
    assert period.expires_on == D("2027-02-28")
    assert period.early_removal_from == D("2025-02-28")
    assert period.removal_window_opens_on is None
    assert {r.rules for r in period.reasons} == {"§10"}


def test_incentive_entry_runs_three_years_and_may_be_reapplied_for_three_months_before_expiry():
    period = entry_period("incentive", D("2025-05-31"), MUNICIPAL, CALENDAR)
    assert period.expires_on == D("2028-05-31")
    assert period.reapply_from == D("2028-02-29")  # leap year, month end kept


def test_entry_period_for_a_list_the_profile_lacks_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="no list 'blacklist'"):
        entry_period("blacklist", D("2025-01-01"), NATIONAL, CALENDAR)
