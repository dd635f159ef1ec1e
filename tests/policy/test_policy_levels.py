"""Bad-credit records, level and cascade (docs/policy.md §3, `000` §三(二))."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.policy import decide
from gateway.domain.policy.levels import cascade
from tests.policy.policy_builders import CALENDAR, MUNICIPAL, D, accident, violation

LEVELS = ("district", "city", "provincial", "national")


def _bad(records, as_of="2025-06-01"):
    return decide(records, D(as_of), MUNICIPAL, CALENDAR).bad_credit


def test_national_level_record_implies_provincial_city_and_district():
    bad = _bad([accident("2025-03-01", "较大", deaths=3, id="x")])
    (rec,) = bad.records
    assert rec.level == "national"
    assert rec.levels == ("national", "provincial", "city", "district")
    assert bad.highest_level == "national"
    assert bad.levels == ("national", "provincial", "city", "district")
    assert rec.reason.entry == "bad_credit.accident_levels.3"
    assert rec.reason.rules == "§3" and rec.reason.record_ids == ("x",)


@pytest.mark.parametrize(
    ("grade", "deaths", "injuries", "level"),
    [
        ("一般", 0, 2, "district"),  # injury accident
        ("一般", 1, 0, "city"),  # general responsibility accident
        ("一般", 2, 0, "provincial"),  # 2 or more deaths
        ("较大", 3, 0, "national"),
        ("重大", 10, 0, "national"),
        ("特别重大", 30, 0, "national"),
    ],
)
def test_accident_level_follows_the_worst_matching_rule(grade, deaths, injuries, level):
    (rec,) = _bad([accident("2025-03-01", grade, deaths=deaths, injuries=injuries)]).records
    assert rec.level == level
    assert rec.levels == LEVELS[: LEVELS.index(level) + 1][::-1]


def test_accident_without_responsibility_makes_no_bad_credit_record():
    assert not _bad([accident("2025-03-01", "一般", deaths=1, responsibility=False)]).current


def test_bad_credit_record_lasts_one_year_from_the_accident():
    records = [accident("2024-06-01", "一般", deaths=1)]
    assert _bad(records, "2025-05-31").current
    assert not _bad(records, "2025-06-01").current


def test_violation_cases_make_bad_credit_records_at_their_profile_level():
    bad = _bad([violation("2025-02-01", "bc_major_hazard", id="v")])
    (rec,) = bad.records
    assert (rec.case, rec.level, rec.levels) == ("major_hazard", "district", ("district",))
    assert rec.reason.entry == "bad_credit.violation_cases.1"


def test_worst_record_sets_the_subjects_levels():
    bad = _bad([violation("2025-02-01", "bc_other"), accident("2025-03-01", "一般", deaths=2)])
    assert bad.highest_level == "provincial"
    assert [r.level for r in bad.records] == ["provincial", "district"]


@given(st.sampled_from(LEVELS))
def test_cascade_covers_exactly_the_level_and_every_level_below(level):
    implied = cascade(level, MUNICIPAL)
    assert implied[0] == level
    assert set(implied) == set(LEVELS[: LEVELS.index(level) + 1])
