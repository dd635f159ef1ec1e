"""Issue 12, rule 6 (`001` §三(四)1(4), 2(2)): a removal and an incentive review pass each
level's approval in the profile's order (district → city → ..., one credential per level),
each recorded with its credential; the step is carried out, and published, only when the last
level approves. Both profiles, both databases; the CLI too."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from policy_store_helpers import commitment, entries, grade, post, step

from gateway.access.testing import headers_for, issue
from gateway.cli import main
from gateway.config import load_settings
from tests.factories import accident, make_uscc

UNIT = make_uscc(361)
REMOVAL = {"municipal-2021": ["district", "city"], "national-2023": ["listing_authority"]}
REVIEW = ["district", "city", "provincial", "national"]


@pytest.fixture(params=sorted(REMOVAL))
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _approve(client, services, entry_id: str, **body):  # noqa: ANN001, ANN003, ANN202
    issued = issue(services, "operator", days=3650)
    r = client.post(f"/v1/list-entries/{entry_id}/transitions", json={"action": "approve", **body},
                    headers=headers_for(issued))
    return r, f"key:{issued.key_id}"


def _removal_requested(client, clock) -> dict:  # noqa: ANN001
    post(client, accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3))
    post(client, accident("A2", UNIT, "2025-05-01", grade="larger", deaths=4))
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    step(client, jp["id"], "notify")
    step(client, jp["id"], "confirm", argument="waived")
    published = step(client, jp["id"], "publish").json()["entry"]
    opens = min(d for d in (published["removal_window_opens_on"], published["early_removal_from"]) if d)
    clock.set(dt.datetime.combine(dt.date.fromisoformat(opens), dt.time(2, 0), tzinfo=dt.UTC))
    r = step(client, jp["id"], "request-removal")
    assert r.status_code == 200, r.text
    return r.json()["entry"]


def test_rule_6_a_removal_passes_each_level_and_is_published_at_the_last(client, services, clock, settings):
    levels = REMOVAL[settings.policy_profile]
    entry = _removal_requested(client, clock)
    r = step(client, entry["id"], "remove")
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:approvals-pending"
    assert r.json()["pending"] == levels
    r, _ = _approve(client, services, entry["id"], level="province")
    assert r.status_code == 409 and r.json()["expected"] == levels[0]
    actors = []
    for n, level in enumerate(levels):
        r, actor = _approve(client, services, entry["id"], level=level)
        assert r.status_code == 200, r.text
        actors.append(actor)
        state = r.json()["entry"]["state"]
        assert state == ("removed" if n == len(levels) - 1 else "removal_requested")  # published at the last
    events = client.get(f"/v1/list-entries/{entry['id']}").json()["events"]
    approvals = [(e["actor"], e["detail"]["level"]) for e in events if e["action"] == "approve"]
    assert approvals == list(zip(actors, levels, strict=True))
    assert (events[-1]["action"], events[-1]["actor"]) == ("remove", actors[-1])


def test_rule_6_one_credential_approves_one_level(client, services, clock, settings):
    if len(REMOVAL[settings.policy_profile]) < 2:
        pytest.skip("the profile removes on one level's approval")
    entry = _removal_requested(client, clock)
    first = issue(services, "operator", days=3650)
    for expected in (200, 409):
        r = client.post(f"/v1/list-entries/{entry['id']}/transitions", json={"action": "approve"},
                        headers=headers_for(first))
        assert r.status_code == expected, r.text
    assert r.json()["type"] == "urn:gateway:problem:approval-out-of-order"
    assert client.get(f"/v1/list-entries/{entry['id']}").json()["state"] == "removal_requested"


def test_rule_6_an_incentive_review_passes_each_level_before_publication(client, services):
    post(client, commitment("C1", UNIT))
    post(client, grade("G1", UNIT, level=1))
    entry = client.post("/v1/incentive-applications", json={"uscc": UNIT}).json()
    r, _ = _approve(client, services, entry["id"])
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:illegal-transition"  # review first
    step(client, entry["id"], "review")
    r = step(client, entry["id"], "publish")
    assert r.status_code == 409 and r.json()["pending"] == REVIEW
    for n, level in enumerate(REVIEW):
        r, _ = _approve(client, services, entry["id"], level=level)
        body = r.json()["entry"]
        if n < len(REVIEW) - 1:
            assert body["state"] == "reviewed" and body["starts_on"] is None
    assert body["state"] == "published" and body["starts_on"] == "2025-06-02"


def test_rule_6_cli_approve_names_its_level(client, db, services, clock, settings, capsys, monkeypatch):
    levels = REMOVAL[settings.policy_profile]
    entry = _removal_requested(client, clock)
    monkeypatch.setenv("GATEWAY_CLOCK_FIXED", clock.now().isoformat())
    monkeypatch.setenv("GATEWAY_POLICY_PROFILE", settings.policy_profile)
    url = ["--database-url", db.url]
    capsys.readouterr()
    assert main(["list-entries", "transition", entry["id"], "approve", "--level", "nowhere", *url]) == 1
    assert f"the {levels[0]!r} level approves next" in capsys.readouterr().err
    assert main(["list-entries", "transition", entry["id"], "approve", "--level", levels[0], *url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["entry"]["state"] == ("removed" if len(levels) == 1 else "removal_requested")
    assert out["entry"]["events"][-1]["actor"].startswith("os:")
