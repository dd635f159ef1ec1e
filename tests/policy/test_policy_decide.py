"""`decide`: every decision for one subject, JSON-ready, with reasons; the engine stays pure."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import gateway.domain.policy as policy_pkg
from gateway.domain.policy import decide
from tests.policy.policy_builders import (
    CALENDAR,
    MUNICIPAL,
    NATIONAL,
    D,
    accident,
    exemplary_unit,
    licence,
    penalty,
    score,
    violation,
)

MIXED = [
    *exemplary_unit(),
    accident("2025-02-01", "较大", deaths=3, id="big"),
    violation("2025-03-01", "nat_fine_multiple_114", id="fine"),
    penalty("2025-03-05", serious=True, id="pen"),
    licence("2025-04-01", id="lic"),
    score(2023, "70"),
]


def test_to_dict_is_json_with_iso_dates():
    d = decide(MIXED, D("2025-06-01"), MUNICIPAL, CALENDAR).to_dict()
    text = json.dumps(d, ensure_ascii=False)
    assert json.loads(text) == d
    assert d["as_of"] == "2025-06-01"
    assert d["profile"] == "municipal-2021"
    assert set(d) == {
        "subject",
        "as_of",
        "profile",
        "bad_credit",
        "lists",
        "incentive",
        "integrity_grade",
        "stars",
        "high_rating",
        "supervision",
        "penalties",
        "licences",
        "measures",
    }
    assert d["lists"][0]["period"]["expires_on"] == "2026-02-01"
    assert d["stars"]["latest"]["score"] == "96"


def test_every_reason_names_a_profile_entry_with_a_rules_section():
    d = decide(MIXED, D("2025-06-01"), MUNICIPAL, CALENDAR).to_dict()
    reasons = []

    def walk(node):
        if isinstance(node, dict):
            if {"case", "entry", "rules", "source", "text_zh", "text_en", "record_ids"} <= set(node):
                reasons.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(d)
    assert len(reasons) > 10
    for r in reasons:
        assert r["rules"].startswith("§") and r["source"] and r["entry"] and r["text_zh"] and r["text_en"]


def test_same_records_give_different_correct_outcomes_under_the_two_profiles():
    muni = decide(MIXED, D("2025-06-01"), MUNICIPAL, CALENDAR)
    nat = decide(MIXED, D("2025-06-01"), NATIONAL, CALENDAR)
    # municipal: the 较大 accident lists (§4 (1)); the §114 fine is not a municipal case
    mjp = muni.list("joint_punishment")
    assert mjp.candidate and {h.code for h in mjp.cases} == {"jp01_accident"}
    assert mjp.period.expires_on == D("2026-02-01")
    # national: one 较大 accident is not a case, the §114 fine is; three years, early removal after 12 months
    njp = nat.list("joint_punishment")
    assert njp.candidate and {h.code for h in njp.cases} == {"nat_fine_multiple_114"}
    assert njp.period.expires_on == D("2028-03-01")
    assert njp.period.early_removal_from == D("2026-03-01")
    assert nat.list("blacklist") is None
    # a serious penalty is repairable after 1 year under both (国家发展改革委令2023年第58号)
    assert muni.penalties[0].earliest_repair_on == D("2026-03-05")
    assert nat.penalties[0].earliest_repair_on == D("2026-03-05")


def test_punishment_list_routes_measures_to_every_receiver_sector():
    d = decide(
        [violation("2025-03-01", "jp05_operating_while_stopped")], D("2025-06-01"), MUNICIPAL, CALENDAR
    )
    receivers = {m.receiver for m in d.measures if m.list_kind == "joint_punishment"}
    assert receivers == {
        "land",
        "securities",
        "finance",
        "insurance",
        "approval",
        "trading",
        "electricity",
        "safety_supervision",
        "platform",
    }
    land = next(m for m in d.measures if m.receiver == "land")
    assert land.basis and land.rules == "§9" and land.entry == "measures.joint_punishment.land.0"


def test_blacklisted_unit_gets_blacklist_and_joint_punishment_measures():
    d = decide([accident("2025-03-01", "重大", deaths=11)], D("2025-06-01"), MUNICIPAL, CALENDAR)
    assert d.listed_on == ("joint_punishment", "blacklist")
    assert {m.list_kind for m in d.measures} == {"joint_punishment", "blacklist"}


def test_eligible_incentive_unit_gets_incentive_measures():
    d = decide(exemplary_unit(), D("2025-06-01"), MUNICIPAL, CALENDAR)
    assert {m.list_kind for m in d.measures} == {"incentive", "high_rating"}
    assert any(m.receiver == "finance" for m in d.measures)


def test_records_of_two_subjects_are_refused():
    other = violation("2025-03-01", "bc_other")
    other = type(other)(**{**other.__dict__, "subject": "91510703MA62X0YY0C"})
    with pytest.raises(ValueError, match="two subjects"):
        decide([violation("2025-03-01", "bc_other"), other], D("2025-06-01"), MUNICIPAL, CALENDAR)


def test_a_subject_without_records_gets_empty_decisions():
    d = decide([], D("2025-06-01"), MUNICIPAL, CALENDAR)
    assert d.subject is None and not d.bad_credit.current and d.listed_on == ()
    assert not d.incentive.eligible and d.supervision.tier == "normal"


def test_decisions_are_frozen():
    d = decide([], D("2025-06-01"), MUNICIPAL, CALENDAR)
    with pytest.raises(AttributeError):
        d.high_rating = True  # type: ignore[misc]


def test_policy_package_imports_nothing_outside_the_domain_and_does_no_io():
    allowed_gateway = "gateway.domain"
    forbidden_modules = {"os", "io", "pathlib", "yaml", "sqlalchemy", "httpx", "open"}
    for path in Path(policy_pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                if name.startswith("gateway"):
                    assert name.startswith(allowed_gateway), (path.name, name)
                assert name.split(".")[0] not in forbidden_modules, (path.name, name)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
                raise AssertionError(f"{path.name} calls open()")
