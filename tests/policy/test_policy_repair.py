"""Publication deadlines (双公示) and credit repair periods of penalties (docs/policy.md §8)."""

from __future__ import annotations

from gateway.domain.policy import decide, publish_by
from tests.policy.policy_builders import CALENDAR, MUNICIPAL, NATIONAL, D, licence, penalty


def test_licence_is_published_within_7_working_days_skipping_the_national_day_holiday():
    # decided Tue 2025-09-30: Oct 1-8 holiday; Oct 9, 10, 11 (make-up Sat), 13, 14, 15, 16
    d = publish_by("licence", D("2025-09-30"), MUNICIPAL, CALENDAR)
    assert d.publish_by == D("2025-10-16")
    assert d.estimated is False and d.working_days == 7
    assert d.reason.entry == "publication.deadlines.0" and d.reason.rules == "§8"


def test_power_sector_penalty_has_20_working_days_alongside_the_7_day_rule_the_stricter_governing():
    d = publish_by("penalty", D("2025-03-03"), MUNICIPAL, CALENDAR, sector="electricity")
    assert d.working_days == 7 and d.publish_by == D("2025-03-12")  # 双公示 is the stricter
    assert [(r.key, r.working_days, r.publish_by) for r in d.rules] == [
        ("double_publicity", 7, D("2025-03-12")), ("power_sector_penalty", 20, D("2025-03-31"))]
    assert publish_by("licence", D("2025-03-03"), MUNICIPAL, CALENDAR, sector="electricity").working_days == 7


def test_deadline_in_a_year_without_official_calendar_is_estimated():
    d = publish_by("penalty", D("2099-06-01"), MUNICIPAL, CALENDAR)
    assert d.estimated is True


def test_decide_gives_each_licence_and_penalty_its_deadline():
    result = decide(
        [licence("2025-05-06", id="l1"), penalty("2025-05-06", id="p1")], D("2025-06-01"), MUNICIPAL, CALENDAR
    )
    assert [(x.record_id, x.publish_by) for x in result.licences] == [("l1", D("2025-05-15"))]
    assert result.penalties[0].deadline.publish_by == D("2025-05-15")


def _pub(records, as_of, profile=MUNICIPAL):
    (p,) = decide(records, D(as_of), profile, CALENDAR).penalties
    return p


def test_ordinary_penalty_is_repairable_after_3_months_and_withdrawn_after_1_year():
    records = [penalty("2025-01-15")]
    p = _pub(records, "2025-04-14")
    assert (p.severity, p.earliest_repair_on, p.publication_ends_on) == (
        "ordinary",
        D("2025-04-15"),
        D("2026-01-15"),
    )
    assert p.status == "publishing"
    assert _pub(records, "2025-04-15").status == "repairable"
    assert _pub(records, "2026-01-15").status == "withdrawn"


def test_serious_penalty_is_repairable_after_1_year_and_withdrawn_after_3_years():
    # 国家发展改革委令2023年第58号 (in force 2023-05-01; 527号 it replaced said 6 months)
    p = _pub([penalty("2025-01-15", serious=True)], "2025-06-01")
    assert (p.severity, p.earliest_repair_on, p.publication_ends_on) == (
        "serious",
        D("2026-01-15"),
        D("2028-01-15"),
    )


def test_later_practice_minimum_of_one_year_applies_only_where_the_profile_switches_it_on():
    records = [penalty("2025-01-15")]  # ordinary: 3 months, unless every work-safety penalty waits a year
    assert _pub(records, "2025-08-01", MUNICIPAL).earliest_repair_on == D("2025-04-15")
    nat = _pub(records, "2025-08-01", NATIONAL)
    assert nat.earliest_repair_on == D("2026-01-15")
    assert nat.status == "publishing"
    assert any(r.case == "work_safety_minimum" for r in nat.reasons)


def test_ordinary_penalty_under_the_later_practice_is_repairable_only_at_its_maximum():
    p = _pub([penalty("2025-01-15")], "2025-08-01", NATIONAL)
    assert p.earliest_repair_on == p.publication_ends_on == D("2026-01-15")
