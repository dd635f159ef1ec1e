"""Issue 12, rule 9: the stricter campaign (`004` §四(二)1, 3; docs/policy.md "Profile overlays").
The overlay `policies/overlays/campaign-2024.yaml` (GATEWAY_POLICY_PROFILE=campaign-2024) lays
the campaign over municipal-2021: one 较大 accident, a major hazard not rectified in time, or
resisting inspection puts a unit on the blacklist, and a fatal accident revokes the
standardization title. The municipal profile, without the overlay, does neither. Through the
API on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from policy_store_helpers import entries, grade, post, violation

from gateway.config import load_settings
from tests.factories import accident, make_uscc

CAMPAIGN, MUNICIPAL = "campaign-2024", "municipal-2021"


@pytest.fixture(params=[CAMPAIGN, MUNICIPAL])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _blacklist_cases(client, unit: str) -> list[str]:  # noqa: ANN001
    return [c for e in entries(client, subject=unit, list="blacklist") for c in e["cases"]]


def test_rule_9_one_larger_accident_puts_the_unit_on_the_blacklist(client, settings):
    unit = make_uscc(901)
    post(client, accident("A901", unit, "2025-05-01", grade="larger", deaths=3))
    cases = _blacklist_cases(client, unit)
    if settings.policy_profile == CAMPAIGN:
        assert cases == ["campaign_larger_or_worse_accident"]
        [bl] = entries(client, subject=unit, list="blacklist")
        detail = client.get(f"/v1/list-entries/{bl['id']}").json()
        assert bl["profile"] == CAMPAIGN and detail["reasons"][0]["source"] == "004 §四(二)3"
    else:  # the municipal blacklist needs two 较大 within 365 days (`001` §三(一)3)
        assert cases == []
    assert entries(client, subject=unit, list="joint_punishment")  # both: the 较大 accident itself


@pytest.mark.parametrize(("code", "case"), [("jp03_hazard_unrectified", "campaign_hazard_not_rectified"),
                                            ("jp04_obstructing_supervision", "campaign_resisting_inspection")])
def test_rule_9_a_hazard_not_rectified_or_resisting_inspection_blacklists(client, settings, code, case):
    unit = make_uscc(902 if code.startswith("jp03") else 903)
    post(client, violation("V" + code[:4], unit, code, "2025-05-01"))
    assert _blacklist_cases(client, unit) == ([case] if settings.policy_profile == CAMPAIGN else [])


def test_rule_9_a_fatal_accident_revokes_the_standardization_title(client, settings):
    unit = make_uscc(904)
    post(client, grade("G904", unit, level=1, year=2024))
    before = client.get(f"/v1/subjects/{unit}/decisions").json()["decisions"]["integrity_grade"]
    assert (before["grade"], before["action"]) == (1, "none")
    post(client, accident("A904", unit, "2025-05-01", grade="general", deaths=1, responsibility=False))
    after = client.get(f"/v1/subjects/{unit}/decisions").json()["decisions"]["integrity_grade"]
    if settings.policy_profile == CAMPAIGN:
        assert (after["grade"], after["action"]) == (None, "revoked")
        assert after["reasons"][-1]["source"] == "004 §四(二)1"
    else:
        assert after["action"] != "revoked"


def test_rule_9_an_overlay_is_validated_as_a_whole_profile(tmp_path):
    from gateway.domain.policy.profile import ProfileError
    from gateway.policy.profiles import load_profile

    bad = tmp_path / "bad-campaign.yaml"
    bad.write_text("extends: municipal-2021\nname: bad-campaign\nlists:\n  blacklist:\n    cases:\n"
                   "      append:\n        - {key: no_criterion, code: x, rules: '§4', source: '004'}\n",
                   encoding="utf-8")
    with pytest.raises(ProfileError, match="exactly one of"):
        load_profile(bad)
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop\nname: loop\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="extends"):
        load_profile(loop)
    assert load_profile("campaign-2024").lists["blacklist"].cases[0].key == "major_or_worse_responsibility_accident"


def test_rule_9_a_revoked_title_no_longer_meets_the_incentive_standardization_condition(client, settings):
    # every answer agrees: once the title is revoked, condition 5 (标准化 一级) is not met either
    unit = make_uscc(905)
    post(client, grade("G905", unit, level=1, year=2024))
    post(client, accident("A905", unit, "2025-05-01", grade="general", deaths=1, responsibility=False))
    decisions = client.get(f"/v1/subjects/{unit}/decisions").json()["decisions"]
    [c5] = [c for c in decisions["incentive"]["conditions"] if c["key"] == "standardization_grade"]
    if settings.policy_profile == CAMPAIGN:
        assert decisions["integrity_grade"]["action"] == "revoked"
        assert c5["met"] is False and "revoked" in json.dumps(c5, ensure_ascii=False)
    else:
        assert c5["met"] is True
