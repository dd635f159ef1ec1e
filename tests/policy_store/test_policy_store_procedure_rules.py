"""Issue 12, rules 1, 2 and 7 of the listing procedure, through the API on both databases."""

from __future__ import annotations

import datetime as dt

from policy_store_helpers import entries, post, step

from tests.factories import accident, make_uscc

UNIT = make_uscc(312)
ACCIDENTS = [("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")]


def _listed(client) -> dict:  # noqa: ANN001
    for source_id, day in ACCIDENTS:
        post(client, accident(source_id, UNIT, day))
    [found] = entries(client, subject=UNIT)
    return found


def _published(client, clock) -> dict:  # noqa: ANN001
    entry = _listed(client)
    assert step(client, entry["id"], "notify").status_code == 200
    assert step(client, entry["id"], "confirm", argument="waived").status_code == 200
    r = step(client, entry["id"], "publish")
    assert r.status_code == 200, r.text
    return r.json()["entry"]


def test_rule_1_removal_window_refuses_an_application_on_or_after_expiry(client, clock):
    entry = _published(client, clock)
    expires = dt.date.fromisoformat(entry["expires_on"])
    clock.set(dt.datetime.combine(expires, dt.time(2, 0), tzinfo=dt.UTC))  # 10:00 in China, the expiry day
    r = step(client, entry["id"], "request-removal")
    assert r.status_code == 409, r.text
    assert r.json()["type"] == "urn:gateway:problem:removal-window-closed"
    assert r.json()["expires_on"] == entry["expires_on"]
    clock.set(dt.datetime.combine(expires - dt.timedelta(days=1), dt.time(2, 0), tzinfo=dt.UTC))
    assert step(client, entry["id"], "request-removal").status_code == 200


def test_rule_2_confirmation_is_refused_while_the_argument_period_runs(client, clock):
    entry = _listed(client)
    notified = step(client, entry["id"], "notify").json()["entry"]
    r = step(client, entry["id"], "confirm")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"] == "urn:gateway:problem:argument-period-open"
    assert problem["argument_deadline"] == notified["argument_deadline"]
    deadline = dt.date.fromisoformat(notified["argument_deadline"])
    clock.set(dt.datetime.combine(deadline, dt.time(2, 0), tzinfo=dt.UTC))  # the last day to argue
    assert step(client, entry["id"], "confirm").status_code == 409
    clock.set(dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(2, 0), tzinfo=dt.UTC))
    assert step(client, entry["id"], "confirm").json()["entry"]["state"] == "confirmed"


def test_rule_2_a_recorded_waiver_or_rejected_argument_allows_confirmation_at_once(client, clock):
    entry = _listed(client)
    step(client, entry["id"], "notify")
    r = step(client, entry["id"], "confirm", argument="rejected", note="申辩理由不成立")
    assert r.status_code == 200, r.text
    events = client.get(f"/v1/list-entries/{entry['id']}").json()["events"]
    assert events[-1]["detail"]["argument"] == "rejected"


def test_rule_2_an_accepted_argument_drops_the_listing(client, clock):
    entry = _listed(client)
    step(client, entry["id"], "notify")
    r = step(client, entry["id"], "drop", note="申辩理由成立")
    assert r.json()["entry"]["state"] == "dropped" and r.json()["entry"]["allowed_actions"] == []


def test_rule_7_the_actor_is_the_authenticated_credential_never_a_free_text_field(client, services):
    from gateway.access.testing import headers_for, issue

    entry = _listed(client)
    r = step(client, entry["id"], "notify", actor="张科长")
    assert r.status_code == 400  # no free-text actor is accepted
    issued = issue(services, "operator", days=30)
    r = client.post(f"/v1/list-entries/{entry['id']}/transitions", json={"action": "notify"},
                    headers=headers_for(issued))
    assert r.status_code == 200, r.text
    events = client.get(f"/v1/list-entries/{entry['id']}").json()["events"]
    assert events[-1]["actor"] == f"key:{issued.key_id}"


def test_rule_7_cli_transitions_record_the_os_user(monkeypatch):
    from gateway.cli._common import os_actor

    monkeypatch.setenv("USER", "zhangsan")
    monkeypatch.setenv("LOGNAME", "zhangsan")
    assert os_actor() == "os:zhangsan"
