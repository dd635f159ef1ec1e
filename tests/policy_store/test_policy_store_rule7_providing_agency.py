"""Issue 12, rule 7 (the rest): 谁提供、谁负责 (`001` §三(四)1(5), 2(5); docs/policy.md §6). An
objection is answered only by the providing agency's key, or by an operator acting for it,
recorded as such (`acting_for` on the step); another agency's key is refused with a 403
problem. Through the API, in both profiles, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from policy_store_helpers import entries, post, step

from gateway.access.testing import headers_for, issue
from gateway.config import load_settings
from tests.factories import accident, make_uscc

UNIT = make_uscc(707)
FORBIDDEN = "urn:gateway:problem:not-the-providing-agency"


@pytest.fixture(params=["municipal-2021", "national-2023"])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _under_objection(client) -> dict:  # noqa: ANN001
    # two 较大 accidents within 12 months, reported by MY-AJJ: a joint punishment listing in both profiles
    post(client, accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3), agency="MY-AJJ")
    post(client, accident("A2", UNIT, "2025-05-01", grade="larger", deaths=4), agency="MY-AJJ")
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    for action, extra in (("notify", {}), ("confirm", {"argument": "waived"}), ("publish", {}), ("object", {})):
        r = step(client, jp["id"], action, **extra)
        assert r.status_code == 200, r.text
    return r.json()["entry"]


def _answer(client, entry_id: str, headers: dict | None = None, **body):  # noqa: ANN001, ANN202
    return client.post(f"/v1/list-entries/{entry_id}/objection-answers", json=body, headers=headers or {})


def test_rule_7_an_objection_is_answered_by_the_providing_agency_s_key(client, services):
    entry = _under_objection(client)
    own = issue(services, "agency", agency="MY-AJJ", seq=1)
    r = _answer(client, entry["id"], headers_for(own), outcome="reject-objection", note="异议不成立")
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "objection_rejected"
    last = client.get(f"/v1/list-entries/{entry['id']}").json()["events"][-1]
    assert last["actor"] == f"key:{own.key_id}" and last["acting_for"] == "MY-AJJ"


def test_rule_7_another_agency_s_key_is_refused_with_a_403_problem(client, services):
    entry = _under_objection(client)
    other = issue(services, "agency", agency="FC-AJJ", seq=2)
    r = _answer(client, entry["id"], headers_for(other), outcome="annul-listing")
    assert r.status_code == 403, r.text
    assert r.json()["type"] == FORBIDDEN and r.json()["providing_agencies"] == ["MY-AJJ"]
    assert client.get(f"/v1/list-entries/{entry['id']}").json()["state"] == "objection"
    # an agency key takes no other step of the procedure
    own = issue(services, "agency", agency="MY-AJJ", seq=3)
    assert client.post(f"/v1/list-entries/{entry['id']}/transitions", json={"action": "reject-objection"},
                       headers=headers_for(own)).status_code == 403


def test_rule_7_an_operator_answers_only_acting_for_the_providing_agency_recorded_with_the_step(client):
    entry = _under_objection(client)
    r = step(client, entry["id"], "reject-objection")
    assert r.status_code == 403 and r.json()["type"] == FORBIDDEN, r.text
    r = step(client, entry["id"], "correct-listing", acting_for="FC-AJJ", note="更正")
    assert r.status_code == 403 and r.json()["type"] == FORBIDDEN, r.text
    r = _answer(client, entry["id"], outcome="correct-listing", acting_for="MY-AJJ", note="更正：事故发生单位名称")
    assert r.status_code == 200, r.text
    last = client.get(f"/v1/list-entries/{entry['id']}").json()["events"][-1]
    assert last["action"] == "correct-listing" and last["acting_for"] == "MY-AJJ"
    assert last["actor"].startswith("key:")


def test_rule_7_acting_for_is_refused_on_a_step_that_is_not_an_objection_answer(client):
    post(client, accident("B1", make_uscc(708), "2024-12-01", grade="larger", deaths=3))
    post(client, accident("B2", make_uscc(708), "2025-05-01", grade="larger", deaths=3))
    [jp] = entries(client, subject=make_uscc(708), list="joint_punishment")
    r = step(client, jp["id"], "notify", acting_for="MY-AJJ")
    assert r.status_code == 403 and r.json()["type"] == FORBIDDEN


def test_rule_7_cli_answers_an_objection_only_acting_for_the_providing_agency(client, db, capsys):
    import json

    from gateway.cli import main
    from gateway.cli._common import os_actor

    entry = _under_objection(client)
    url = ["--database-url", db.url]
    capsys.readouterr()
    assert main(["list-entries", "transition", entry["id"], "reject-objection", *url]) == 1
    assert "acting for the providing agency" in capsys.readouterr().err
    assert main(["list-entries", "transition", entry["id"], "reject-objection", "--acting-for", "FC-AJJ", *url]) == 1
    capsys.readouterr()
    assert main(["list-entries", "transition", entry["id"], "reject-objection", "--acting-for", "MY-AJJ",
                 "--note", "异议不成立", *url]) == 0
    assert json.loads(capsys.readouterr().out)["entry"]["state"] == "objection_rejected"
    assert main(["list-entries", "show", entry["id"], *url]) == 0
    last = json.loads(capsys.readouterr().out)["events"][-1]
    assert (last["actor"], last["acting_for"]) == (os_actor(), "MY-AJJ")
