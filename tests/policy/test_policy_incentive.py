"""Joint incentive list: all six conditions, each reported with evidence (docs/policy.md §5, `001` §三(一)4)."""

from __future__ import annotations

from gateway.domain.policy import decide
from tests.policy.policy_builders import (
    CALENDAR,
    MUNICIPAL,
    D,
    accident,
    commitment,
    exemplary_unit,
    grade,
    penalty,
    violation,
)

AS_OF = "2025-06-01"
KEYS = (
    "public_commitment",
    "no_dishonesty",
    "no_safety_penalty",
    "no_fatal_accident_or_occupational_disease",
    "standardization_grade",
    "not_punished_elsewhere",
)


def _incentive(records, as_of=AS_OF):
    return decide(records, D(as_of), MUNICIPAL, CALENDAR).incentive


def _only_missing(records, key):
    inc = _incentive(records)
    assert not inc.eligible
    assert inc.missing == (key,)
    cond = next(c for c in inc.conditions if c.key == key)
    assert cond.met is False
    assert cond.reason.entry == f"incentive.conditions.{key}"
    assert cond.reason.rules == "§5"
    return cond


def test_unit_meeting_all_six_conditions_is_eligible_with_evidence():
    inc = _incentive(exemplary_unit())
    assert inc.eligible and inc.missing == ()
    assert [c.key for c in inc.conditions] == list(KEYS)
    assert [c.number for c in inc.conditions] == [1, 2, 3, 4, 5, 6]
    by_key = {c.key: c for c in inc.conditions}
    assert by_key["public_commitment"].record_ids == ("commit-1",)
    assert by_key["standardization_grade"].record_ids == ("grade-1",)


def test_applicant_without_a_public_commitment_misses_condition_1():
    records = [r for r in exemplary_unit() if r.id != "commit-1"] + [
        commitment("2022-03-01", published=False)
    ]
    cond = _only_missing(records, "public_commitment")
    assert cond.record_ids == ()


def test_applicant_with_a_broken_commitment_misses_condition_1():
    cond = _only_missing(
        [*exemplary_unit(), commitment("2024-05-01", kept=False, id="broken")], "public_commitment"
    )
    assert cond.record_ids == ("broken",)


def test_applicant_whose_safety_head_was_dishonest_within_3_years_misses_condition_2():
    cond = _only_missing(
        [*exemplary_unit(), violation("2023-06-02", "bc_other", role="safety_head", id="v-head")],
        "no_dishonesty",
    )
    assert cond.record_ids == ("v-head",)


def test_dishonesty_more_than_3_years_ago_does_not_block_the_incentive():
    assert _incentive([*exemplary_unit(), violation("2022-06-01", "bc_other")]).eligible


def test_applicant_penalised_within_3_years_misses_condition_3():
    cond = _only_missing([*exemplary_unit(), penalty("2024-01-15", id="p1")], "no_safety_penalty")
    assert cond.record_ids == ("p1",)


def test_applicant_with_a_fatal_responsibility_accident_misses_condition_4():
    cond = _only_missing(
        [*exemplary_unit(), accident("2023-09-01", "一般", deaths=1, id="a1")],
        "no_fatal_accident_or_occupational_disease",
    )
    assert cond.record_ids == ("a1",)


def test_applicant_with_a_new_occupational_disease_case_misses_condition_4():
    cond = _only_missing(
        [*exemplary_unit(), accident("2024-09-01", "一般", occupational_disease_cases=1, id="od")],
        "no_fatal_accident_or_occupational_disease",
    )
    assert cond.record_ids == ("od",)


def test_applicant_with_standardization_grade_2_misses_condition_5():
    records = [r for r in exemplary_unit() if r.id != "grade-1"] + [grade(2024, 2, id="grade-2")]
    cond = _only_missing(records, "standardization_grade")
    assert cond.record_ids == ("grade-2",)


def test_applicant_whose_grade_has_lapsed_misses_condition_5():
    records = [r for r in exemplary_unit() if r.id != "grade-1"] + [grade(2021, 1, valid_until="2024-12-31")]
    _only_missing(records, "standardization_grade")


def test_applicant_punished_in_another_field_misses_condition_6():
    cond = _only_missing(
        [*exemplary_unit(), violation("2020-01-01", "other_field_punishment", id="o1")],
        "not_punished_elsewhere",
    )
    assert cond.record_ids == ("o1",)
