"""诚信等级, star rating, star-less years and supervision tier (docs/policy.md §7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.policy import decide
from gateway.domain.policy.ratings import stars_for
from tests.policy.policy_builders import (
    CALENDAR,
    MUNICIPAL,
    NATIONAL,
    D,
    accident,
    exemplary_unit,
    grade,
    score,
    violation,
)


def _decide(records, as_of="2025-06-01", profile=MUNICIPAL):
    return decide(records, D(as_of), profile, CALENDAR)


@pytest.mark.parametrize(
    ("value", "stars"),
    [("100", 5), ("95", 5), ("94.99", 4), ("85", 4), ("84.99", 3), ("75", 3), ("74.99", None), ("0", None)],
)
def test_star_bands_include_their_lower_bound_and_exclude_the_upper(value, stars):
    d = _decide([score(2024, value)])
    assert d.stars.latest.stars == stars
    assert d.stars.key_monitoring is (stars is None)


def test_veto_item_gives_no_star_even_with_score_99():
    d = _decide([score(2024, "99", veto=("发生亡人事故",), id="s")])
    latest = d.stars.latest
    assert latest.stars is None and latest.key_monitoring
    assert "否决项" in latest.reason.text_zh and latest.reason.source == "003 §六"


def test_two_consecutive_years_without_a_star_orders_rectification():
    d = _decide([score(2023, "70"), score(2024, "99", veto=("重大隐患",))])
    assert d.stars.rectification_ordered
    assert d.stars.starless_streak == (2023, 2024)
    assert d.stars.latest.reason.entry == "ratings.stars.rectification"
    assert d.stars.latest.reason.source == "003 §七"


def test_star_less_years_with_a_gap_are_not_consecutive():
    d = _decide([score(2022, "70"), score(2024, "70")])
    assert not d.stars.rectification_ordered
    assert [y.rectification_ordered for y in d.stars.years] == [False, False]


def test_a_star_year_between_breaks_the_streak():
    d = _decide([score(2022, "70"), score(2023, "90"), score(2024, "70")])
    assert not d.stars.rectification_ordered


@given(st.decimals(min_value=0, max_value=100, places=2), st.decimals(min_value=0, max_value=100, places=2))
def test_a_higher_score_never_earns_fewer_stars(a, b):
    lo, hi = sorted((a, b))
    assert (stars_for(hi, (), MUNICIPAL) or 0) >= (stars_for(lo, (), MUNICIPAL) or 0)


def test_integrity_grade_is_the_latest_standardization_grade():
    d = _decide([grade(2022, 3), grade(2024, 2, id="g24")])
    g = d.integrity_grade
    assert (g.base_grade, g.grade, g.action) == (2, 2, "none")
    assert g.record_ids == ("g24",)


def test_bad_credit_record_downgrades_the_integrity_grade_one_step():
    d = _decide([grade(2024, 1, id="g"), accident("2025-02-01", "一般", deaths=1, id="a")])
    g = d.integrity_grade
    assert (g.base_grade, g.grade, g.action) == (1, 2, "downgraded")
    assert "a" in g.reasons[-1].record_ids


def test_bad_credit_record_withdraws_a_grade_3():
    d = _decide([grade(2024, 3), violation("2025-02-01", "bc_major_hazard")])
    assert (d.integrity_grade.grade, d.integrity_grade.action) == (None, "withdrawn")


def test_withdraw_semantics_is_a_profile_switch():
    data = MUNICIPAL.model_dump(mode="python")
    data["ratings"]["integrity_grade"]["on_bad_credit"] = "withdraw"
    withdrawing = type(MUNICIPAL).from_mapping(data, "withdrawing.yaml")
    d = _decide([grade(2024, 1), violation("2025-02-01", "bc_major_hazard")], profile=withdrawing)
    assert (d.integrity_grade.grade, d.integrity_grade.action) == (None, "withdrawn")


def test_listed_unit_gets_the_higher_supervision_tier():
    d = _decide([violation("2025-02-01", "jp04_obstructing_supervision", id="v")])
    assert d.supervision.tier == "higher"
    assert d.supervision.reasons[0].record_ids == ("v",)
    assert d.supervision.reasons[0].source == "002 §二(三)"


def test_key_monitoring_unit_gets_the_higher_supervision_tier():
    assert _decide([score(2024, "60")]).supervision.tier == "higher"


def test_good_credit_unit_gets_the_lower_supervision_tier():
    assert _decide(exemplary_unit()).supervision.tier == "lower"
    assert _decide([score(2024, "88")]).supervision.tier == "lower"


def test_ordinary_unit_gets_the_normal_supervision_tier():
    assert _decide([score(2024, "80")]).supervision.tier == "normal"
    assert _decide([]).supervision.tier == "normal"


def test_high_rating_routes_reward_measures_but_not_to_a_listed_unit():
    d = _decide([score(2024, "96")])
    assert d.high_rating and {m.list_kind for m in d.measures} == {"high_rating"}
    listed = _decide([score(2024, "96"), violation("2025-02-01", "jp02_unlicensed_operation")])
    assert listed.high_rating
    assert {m.list_kind for m in listed.measures} == {"joint_punishment"}


def test_score_record_is_kept_as_a_decimal():
    assert _decide([score(2024, "94.99")], profile=NATIONAL).stars.latest.score == Decimal("94.99")
