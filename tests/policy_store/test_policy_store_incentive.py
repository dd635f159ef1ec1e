"""Incentive list entries start by application; fraud lists the unit on the blacklist at once."""

from __future__ import annotations

from policy_store_helpers import approve_levels, commitment, entries, grade, post, step

from tests.factories import make_uscc, penalty

UNIT = make_uscc(401)


def _eligible(client) -> None:  # noqa: ANN001
    post(client, commitment("C1", UNIT))
    post(client, grade("G1", UNIT, level=1))


def test_an_application_is_refused_with_the_conditions_that_fail(client):
    post(client, commitment("C1", UNIT))
    post(client, grade("G1", UNIT, level=2))
    post(client, penalty("P1", UNIT))
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"] == "urn:gateway:problem:incentive-not-eligible"
    assert problem["missing"] == ["no_safety_penalty", "standardization_grade"]
    failing = {c["key"]: c for c in problem["conditions"] if not c["met"]}
    assert set(failing) == set(problem["missing"])
    assert failing["standardization_grade"]["reason"]["rules"] == "§5"
    assert entries(client, subject=UNIT) == []


def test_incentive_candidacy_is_never_proposed_automatically(client):
    _eligible(client)
    assert entries(client, subject=UNIT) == []


def test_an_eligible_unit_applies_and_its_entry_walks_to_publication(client, services):
    _eligible(client)
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["list"] == "incentive" and entry["state"] == "applied"
    assert entry["allowed_actions"] == ["review", "refuse"]
    assert entry["events"][0]["action"] == "apply" and entry["events"][0]["actor"].startswith("key:")
    assert step(client, entry["id"], "review").status_code == 200
    published = approve_levels(client, services, entry["id"]).json()["entry"]
    assert published["starts_on"] == "2025-06-02" and published["expires_on"] == "2028-06-02"  # 3 years
    assert published["reapply_from"] == "2028-03-02"  # 3 months before expiry


def test_a_second_application_while_one_is_open_is_409(client):
    _eligible(client)
    assert client.post("/v1/incentive-applications", json={"uscc": UNIT}).status_code == 201
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 409 and r.json()["state"] == "applied"


def test_revoking_for_fraud_lists_the_unit_on_the_blacklist_at_once(client, services):
    _eligible(client)
    entry = client.post("/v1/incentive-applications", json={"uscc": UNIT}).json()
    step(client, entry["id"], "review")
    approve_levels(client, services, entry["id"])
    r = step(client, entry["id"], "revoke", fraud=True, note="申报材料虚假")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["entry"]["state"] == "revoked" and body["entry"]["open"] is False
    assert body["transition"]["instructions"][0]["list_kind"] == "blacklist"
    [listed] = body["created"]
    assert listed["list"] == "blacklist" and listed["state"] == "published"  # listed at once, in force
    assert listed["starts_on"] == "2025-06-02" and listed["expires_on"]
    assert listed["cases"] == ["incentive_fraud"] and listed["origin"] == entry["id"]
    assert listed["events"][0]["actor"].startswith("key:") and listed["events"][0]["action"] == "list"
    assert [e["id"] for e in entries(client, list="blacklist", subject=UNIT)] == [listed["id"]]
    assert listed["allowed_actions"] == ["object", "request-removal", "expire", "revoke"]


def test_an_unknown_subject_cannot_apply(client):
    r = client.post("/v1/incentive-applications", json={"uscc": make_uscc(499)})
    assert r.status_code == 404
