"""`GET /v1/subjects/{uscc}/decisions`: the stored decisions with reasons, as the change feed's
consumer decided them (a request never recomputes)."""

from __future__ import annotations

from policy_store_helpers import post

from tests.factories import accident, make_uscc, penalty

UNIT = make_uscc(601)


def test_decisions_come_with_reasons_citing_rules_sections(client):
    for source_id, day in (("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")):
        post(client, accident(source_id, UNIT, day))
    r = client.get(f"/v1/subjects/{UNIT}/decisions")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"] == "municipal-2021" and body["as_of"] == "2025-06-02"
    jp = next(c for c in body["decisions"]["lists"] if c["list_kind"] == "joint_punishment")
    assert jp["candidate"] is True
    assert jp["reasons"][0]["rules"] == "§4" and jp["reasons"][0]["entry"].startswith("lists.joint_punishment.cases")
    assert len(jp["reasons"][0]["record_ids"]) == 3
    sections = {r["rules"] for r in body["reasons"]}
    assert {"§3", "§4", "§5", "§7"} <= sections
    assert [e["state"] for e in body["entries"]] == ["proposed"]


def test_new_records_are_decided_by_the_change_feed_and_a_pending_change_is_shown(client, services):
    post(client, penalty("P1", UNIT))
    before = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    assert before["decisions"]["bad_credit"]["current"] is False and before["pending_change"] is False
    services.intake.submit("MY-AJJ", [accident("A1", UNIT, "2025-05-01")])  # no consumer has run yet
    pending = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    assert pending["pending_change"] is True and pending["digest"] == before["digest"]  # never recomputed here
    after = client.get(f"/v1/subjects/{UNIT}/decisions").json()  # the client waited for the feed meanwhile
    assert after["decisions"]["bad_credit"]["current"] is True and after["pending_change"] is False
    assert after["digest"] != before["digest"]


def test_an_unchanged_result_is_not_rewritten(client, clock, policy, services):
    post(client, penalty("P1", UNIT))
    first = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    clock.advance(hours=1)
    assert policy.recompute_all() == 1
    assert services.consumer.drain().done == 1
    again = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    assert (again["computed_at"], again["digest"]) == (first["computed_at"], first["digest"])


def test_a_day_without_a_change_decides_nothing_again(client, clock, policy):
    post(client, penalty("P1", UNIT, decided="2024-01-10"))
    first = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    clock.advance(days=1)
    assert policy.sweep().subjects_decided == 0  # nothing of this subject changes by itself today
    nxt = client.get(f"/v1/subjects/{UNIT}/decisions").json()
    assert nxt["as_of"] == first["as_of"] == "2025-06-02" and nxt["computed_at"] == first["computed_at"]


def test_unknown_and_invalid_subjects(client):
    assert client.get(f"/v1/subjects/{make_uscc(699)}/decisions").status_code == 404
    bad = UNIT[:-1] + ("1" if UNIT[-1] != "1" else "2")
    assert client.get(f"/v1/subjects/{bad}/decisions").status_code == 400
