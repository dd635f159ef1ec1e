"""Joint punishment list and blacklist candidacy (docs/policy.md §4, §10): a scenario table from the rules."""

from __future__ import annotations

import pytest

from gateway.domain.policy import decide
from tests.policy.policy_builders import CALENDAR, MUNICIPAL, NATIONAL, D, accident, violation


def _lists(records, as_of, profile=MUNICIPAL):
    d = decide(records, D(as_of), profile, CALENDAR)
    return {c.list_kind: c for c in d.lists}


def fatal_general(on: str, id: str) -> object:
    return accident(on, "一般", deaths=1, id=id)


def test_third_fatal_accident_within_365_days_lists_the_unit():
    # day 1 = 2024-01-10; the third on day 365 = 2025-01-08
    records = [
        fatal_general("2024-01-10", "a1"),
        fatal_general("2024-06-01", "a2"),
        fatal_general("2025-01-08", "a3"),
    ]
    jp = _lists(records, "2025-01-20")["joint_punishment"]
    assert jp.candidate
    (hit,) = jp.cases
    assert hit.case == "three_fatal_general_accidents_365_days"
    assert hit.code == "jp01_accident"
    assert hit.record_ids == ("a1", "a2", "a3")
    assert hit.triggered_on == D("2025-01-08")
    assert hit.reason.entry == "lists.joint_punishment.cases.1"
    assert hit.reason.rules == "§4"


def test_third_fatal_accident_on_day_366_does_not_list_the_unit():
    records = [
        fatal_general("2024-01-10", "a1"),
        fatal_general("2024-06-01", "a2"),
        fatal_general("2025-01-09", "a3"),
    ]
    lists = _lists(records, "2025-01-20")
    assert not lists["joint_punishment"].candidate
    assert not lists["blacklist"].candidate


def test_window_slides_so_a_fourth_accident_can_complete_three_within_365_days():
    records = [
        fatal_general("2024-01-10", "a1"),
        fatal_general("2024-06-01", "a2"),
        fatal_general("2025-01-09", "a3"),
        fatal_general("2025-03-01", "a4"),
    ]
    (hit,) = _lists(records, "2025-03-02")["joint_punishment"].cases
    assert hit.record_ids == ("a2", "a3", "a4")


def test_non_fatal_or_non_responsibility_accidents_do_not_count_towards_three():
    records = [
        fatal_general("2024-01-10", "a1"),
        accident("2024-03-01", "一般", deaths=0, injuries=3),
        accident("2024-04-01", "一般", deaths=1, responsibility=False),
        fatal_general("2024-06-01", "a2"),
    ]
    assert not _lists(records, "2024-07-01")["joint_punishment"].candidate


def test_two_larger_accidents_within_365_days_blacklist_the_unit_and_imply_joint_punishment():
    records = [
        accident("2024-02-01", "较大", deaths=3, id="L1"),
        accident("2025-01-30", "较大", deaths=4, id="L2"),
    ]
    lists = _lists(records, "2025-02-10")
    bl = lists["blacklist"]
    assert bl.candidate
    assert [h.case for h in bl.cases] == ["two_larger_accidents_365_days"]
    assert bl.cases[0].record_ids == ("L1", "L2")
    jp = lists["joint_punishment"]
    assert jp.candidate and jp.implied_by == ("blacklist",)
    assert any(r.case == "implied_by_blacklist" for r in jp.reasons)


def test_two_larger_accidents_366_days_apart_do_not_blacklist_but_each_lists_for_joint_punishment():
    records = [
        accident("2024-02-01", "较大", deaths=3, id="L1"),
        accident("2025-01-31", "较大", deaths=4, id="L2"),
    ]
    lists = _lists(records, "2025-02-10")
    assert not lists["blacklist"].candidate
    jp = lists["joint_punishment"]
    assert jp.candidate and [h.case for h in jp.cases] == ["larger_or_worse_accident"]
    assert jp.cases[0].record_ids == ("L2",)


SCENARIOS = [
    # (name, records, as_of, joint_punishment, blacklist)
    ("larger accident lists (§4 (1))", [accident("2025-01-05", "较大", deaths=3)], "2025-02-01", True, False),
    (
        "major responsibility accident blacklists (§4)",
        [accident("2025-01-05", "重大", deaths=12)],
        "2025-02-01",
        True,
        True,
    ),
    (
        "especially major accident blacklists",
        [accident("2025-01-05", "特别重大", deaths=40)],
        "2025-02-01",
        True,
        True,
    ),
    (
        "egregious accident blacklists",
        [accident("2025-01-05", "一般", injuries=1, egregious=True)],
        "2025-02-01",
        True,
        True,
    ),
    (
        "one fatal general accident does not list",
        [accident("2025-01-05", "一般", deaths=2)],
        "2025-02-01",
        False,
        False,
    ),
    (
        "unlicensed operation lists (§4 (2))",
        [violation("2025-01-05", "jp02_unlicensed_operation")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "hazard unrectified lists (§4 (3))",
        [violation("2025-01-05", "jp03_hazard_unrectified")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "obstructing supervision lists (§4 (4))",
        [violation("2025-01-05", "jp04_obstructing_supervision")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "operating while stopped lists (§4 (5))",
        [violation("2025-01-05", "jp05_operating_while_stopped")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "accident concealment lists (§4 (6))",
        [violation("2025-01-05", "jp06_accident_concealment")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "unaccepted facilities list (§4 (7))",
        [violation("2025-01-05", "jp07_unaccepted_facilities")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "illegal mining lists (§4 (8))",
        [violation("2025-01-05", "jp08_illegal_mining")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "obstructing investigation lists (§4 (9))",
        [violation("2025-01-05", "jp09_investigation_obstruction", role="principal")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "higher authority case lists (§4 (10))",
        [violation("2025-01-05", "jp10_higher_authority")],
        "2025-02-01",
        True,
        False,
    ),
    (
        "incentive fraud blacklists (§5)",
        [violation("2025-01-05", "incentive_fraud")],
        "2025-02-01",
        True,
        True,
    ),
    (
        "a bad-credit-only case does not list",
        [violation("2025-01-05", "bc_major_hazard")],
        "2025-02-01",
        False,
        False,
    ),
    (
        "§114 fine multiple does not list municipally",
        [violation("2025-01-05", "nat_fine_multiple_114")],
        "2025-02-01",
        False,
        False,
    ),
    (
        "listing lapses after the one-year period",
        [violation("2024-01-05", "jp02_unlicensed_operation")],
        "2025-01-05",
        False,
        False,
    ),
    (
        "listing holds on the period's last day",
        [violation("2024-01-05", "jp02_unlicensed_operation")],
        "2025-01-04",
        True,
        False,
    ),
    (
        "a record after as_of is not yet seen",
        [violation("2025-03-01", "jp02_unlicensed_operation")],
        "2025-02-01",
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("records", "as_of", "jp", "bl"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_municipal_listing_scenarios(records, as_of, jp, bl):
    lists = _lists(records, as_of)
    assert lists["joint_punishment"].candidate is jp
    assert lists["blacklist"].candidate is bl


def test_a_withdrawn_record_does_not_list_the_unit():
    rec = violation("2025-01-05", "jp02_unlicensed_operation")
    withdrawn = type(rec)(**{**rec.__dict__, "status": "withdrawn"})
    assert not _lists([withdrawn], "2025-02-01")["joint_punishment"].candidate


def test_candidacy_names_every_case_and_record_that_caused_it():
    records = [
        violation("2025-01-05", "jp06_accident_concealment", id="v1"),
        accident("2025-01-04", "较大", deaths=3, id="x1"),
    ]
    jp = _lists(records, "2025-02-01")["joint_punishment"]
    assert {h.code for h in jp.cases} == {"jp01_accident", "jp06_accident_concealment"}
    assert set(jp.record_ids) == {"v1", "x1"}
    assert all(r.rules == "§4" and r.source.startswith("001") for r in jp.reasons)


# --- the same records under both profiles -------------------------------------------------


def test_fine_multiple_114_lists_only_under_national_2023():
    records = [violation("2025-01-05", "nat_fine_multiple_114", id="f1")]
    assert not _lists(records, "2025-02-01", MUNICIPAL)["joint_punishment"].candidate
    nat = _lists(records, "2025-02-01", NATIONAL)["joint_punishment"]
    assert nat.candidate
    assert nat.cases[0].code == "nat_fine_multiple_114"
    assert nat.cases[0].reason.rules == "§10"


def test_listing_period_is_one_year_municipal_and_three_years_national():
    records = [violation("2025-01-05", "jp02_unlicensed_operation")]
    muni = _lists(records, "2025-02-01", MUNICIPAL)["joint_punishment"].period
    nat = _lists(records, "2025-02-01", NATIONAL)["joint_punishment"].period
    assert muni.expires_on == D("2026-01-05")
    assert nat.expires_on == D("2028-01-05")
    assert muni.removal_window_opens_on is not None and muni.early_removal_from is None
    assert nat.early_removal_from == D("2026-01-05") and nat.removal_window_opens_on is None
    # two years on, municipal listing has lapsed, national has not
    assert not _lists(records, "2027-01-05", MUNICIPAL)["joint_punishment"].candidate
    assert _lists(records, "2027-01-05", NATIONAL)["joint_punishment"].candidate


def test_national_window_counts_twelve_calendar_months():
    within = [accident("2024-03-01", "较大", deaths=3), accident("2025-02-28", "较大", deaths=3)]
    outside = [accident("2024-03-01", "较大", deaths=3), accident("2025-03-01", "较大", deaths=3)]
    hit = _lists(within, "2025-03-05", NATIONAL)["joint_punishment"]
    assert "two_larger_accidents_12_months" in {h.case for h in hit.cases}
    miss = _lists(outside, "2025-03-05", NATIONAL)["joint_punishment"]
    assert "two_larger_accidents_12_months" not in {h.case for h in miss.cases}


def test_a_single_larger_accident_lists_municipally_but_not_nationally():
    records = [accident("2025-01-05", "较大", deaths=3)]
    assert _lists(records, "2025-02-01", MUNICIPAL)["joint_punishment"].candidate
    assert not _lists(records, "2025-02-01", NATIONAL)["joint_punishment"].candidate


def test_national_profile_has_no_separate_blacklist():
    lists = _lists([accident("2025-01-05", "重大", deaths=12)], "2025-02-01", NATIONAL)
    assert set(lists) == {"joint_punishment"}
    assert lists["joint_punishment"].candidate
