"""Issue 12, rule 10: stars over years (`003` §五, §七; docs/policy.md §7). 三星 units stay under
tracking; two years without a star → rectification by a deadline, then 停产整顿, then closure,
each step a decision with its reason, refused when the step before does not allow it. Through
the API, in both profiles, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_store_helpers import post, score

from gateway.config import load_settings
from tests.factories import make_uscc

REFUSED = "urn:gateway:problem:star-step-not-allowed"


@pytest.fixture(params=["municipal-2021", "national-2023"])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _steps(client, unit: str) -> dict:  # noqa: ANN001
    r = client.get(f"/v1/subjects/{unit}/star-procedure")
    assert r.status_code == 200, r.text
    return r.json()


def _step(client, unit: str, step: str, **body):  # noqa: ANN001, ANN202
    return client.post(f"/v1/subjects/{unit}/star-steps", json={"step": step, **body})


def test_rule_10_a_three_star_unit_stays_under_tracking(client):
    unit = make_uscc(1001)
    post(client, score("S1", unit, "80", 2024))
    stars = client.get(f"/v1/subjects/{unit}/decisions").json()["decisions"]["stars"]
    assert stars["latest"]["stars"] == 3 and stars["tracking"] is True
    assert stars["tracking_reason"]["source"] == "003 §七"
    assert _steps(client, unit)["tracking"] is True
    post(client, score("S2", make_uscc(1002), "90", 2024))  # four stars: self-management, no tracking
    assert _steps(client, make_uscc(1002))["tracking"] is False


def test_rule_10_two_starless_years_rectification_then_suspension_then_closure(client, clock):
    unit = make_uscc(1003)
    post(client, score("S1", unit, "70", 2023))
    r = _step(client, unit, "rectification", reason="连续两年未评星级", deadline="2025-07-01")
    assert r.status_code == 409 and r.json()["type"] == REFUSED  # one star-less year is not two
    post(client, score("S2", unit, "72", 2024))
    state = _steps(client, unit)
    assert state["rectification_ordered"] is True and state["starless_years"] == [2023, 2024]
    assert state["allowed"] == ["rectification"]
    assert _step(client, unit, "rectification", reason="连续两年未评星级").status_code == 409  # no deadline
    r = _step(client, unit, "rectification", reason="连续两年未评星级，责令限期整改", deadline="2025-07-01")
    assert r.status_code == 201, r.text
    [rect] = r.json()["steps"]
    assert (rect["step"], rect["deadline"], rect["decision_zh"]) == ("rectification", "2025-07-01", "责令限期整改")
    assert rect["basis"]["starless_years"] == [2023, 2024] and len(rect["basis"]["record_ids"]) == 2
    assert rect["basis"]["rule"]["source"] == "003 §七" and rect["actor"].startswith("key:")
    r = _step(client, unit, "suspension", reason="逾期未整改")
    assert r.status_code == 409 and r.json()["allowed"] == ["accepted"]  # the deadline has not passed
    clock.set(dt.datetime(2025, 7, 2, 2, 0, tzinfo=dt.UTC))
    assert _step(client, unit, "closure", reason="验收不合格").status_code == 409  # not before 停产整顿
    r = _step(client, unit, "suspension", reason="逾期未整改，责令停产停业整顿")
    assert r.status_code == 201, r.text
    r = _step(client, unit, "closure", reason="停产整顿后验收仍不合格，提请市人民政府予以关闭")
    assert r.status_code == 201, r.text
    assert [s["step"] for s in r.json()["steps"]] == ["rectification", "suspension", "closure"]
    assert all(s["reason"] for s in r.json()["steps"])


def test_rule_10_acceptance_ends_the_procedure(client):
    unit = make_uscc(1004)
    post(client, score("S1", unit, "60", 2023))
    post(client, score("S2", unit, "65", 2024))
    assert _step(client, unit, "rectification", reason="责令限期整改", deadline="2025-08-01").status_code == 201
    assert _step(client, unit, "rectification", reason="再次", deadline="2025-09-01").status_code == 409
    r = _step(client, unit, "accepted", reason="整改验收合格")
    assert r.status_code == 201 and r.json()["allowed"] == ["rectification"]
    assert client.post(f"/v1/subjects/{unit}/star-steps", json={"step": "accepted"}).status_code == 400  # no reason
