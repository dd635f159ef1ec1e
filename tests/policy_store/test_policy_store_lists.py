"""Joint punishment entries from intake to publication: proposal, procedure, history, 409s."""

from __future__ import annotations

import datetime as dt

from policy_store_helpers import approve_levels, entries, post, step

from tests.factories import accident, make_uscc, penalty

UNIT = make_uscc(301)
# three fatal general responsibility accidents, the third within 365 days of the first
ACCIDENTS = [("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")]


def _listed(client) -> dict:  # noqa: ANN001
    for source_id, day in ACCIDENTS:
        post(client, accident(source_id, UNIT, day))
    found = entries(client, subject=UNIT)
    assert len(found) == 1, found
    return found[0]


def test_third_fatal_general_accident_within_365_days_proposes_a_joint_punishment_entry(client):
    for source_id, day in ACCIDENTS[:2]:
        post(client, accident(source_id, UNIT, day))
    assert entries(client, subject=UNIT) == []
    post(client, accident(*ACCIDENTS[2][:1], UNIT, ACCIDENTS[2][1]))
    [entry] = entries(client, subject=UNIT)
    assert entry["list"] == "joint_punishment" and entry["state"] == "proposed"
    assert entry["cases"] == ["three_fatal_general_accidents_365_days"]
    assert len(entry["record_uids"]) == 3 and entry["region"] == "510703"
    assert entry["allowed_actions"] == ["notify", "revoke"]


def test_later_records_never_duplicate_an_open_entry(client, policy, services):
    first = _listed(client)
    post(client, penalty("P1", UNIT))
    post(client, accident("A4", UNIT, "2025-05-25"))
    policy.recompute_all()
    policy.recompute([_subject_id(policy, UNIT)])
    assert [e["id"] for e in entries(client, subject=UNIT)] == [first["id"]]


def _subject_id(policy, key: str) -> int:  # noqa: ANN001
    from gateway.intake.repository import find_subjects_by_key

    with policy.db.read() as conn:
        return find_subjects_by_key(conn, {key})[key].id


def test_walking_the_procedure_sets_the_argument_deadline_period_and_removal_window(client, clock):
    entry = _listed(client)
    r = step(client, entry["id"], "notify", note="告知书 绵应急告〔2025〕1号")
    assert r.status_code == 200, r.text
    # 2025-06-02 is the 端午 holiday: five working days are 3, 4, 5, 6 and 9 June
    assert r.json()["entry"]["argument_deadline"] == "2025-06-09"
    clock.advance(days=8)
    assert step(client, entry["id"], "confirm").status_code == 200
    r = step(client, entry["id"], "publish")
    body = r.json()["entry"]
    assert body["state"] == "published"
    assert body["starts_on"] == "2025-06-10" and body["expires_on"] == "2026-06-10"  # one year, municipal
    # 30 working days before 2026-06-10: the 劳动节 holidays (1-5 May) do not count, the
    # make-up Saturday 9 May does
    assert body["removal_window_opens_on"] == "2026-04-27"
    assert body["early_removal_from"] is None
    assert body["allowed_actions"] == ["object", "request-removal", "expire", "revoke"]


def test_an_illegal_transition_is_409_with_the_allowed_actions(client):
    entry = _listed(client)
    r = step(client, entry["id"], "publish")
    assert r.status_code == 409
    problem = r.json()
    assert problem["type"] == "urn:gateway:problem:illegal-transition"
    assert problem["allowed"] == ["notify", "revoke"] and problem["state"] == "proposed"
    assert client.get(f"/v1/list-entries/{entry['id']}").json()["state"] == "proposed"


def test_a_final_state_allows_nothing(client):
    entry = _listed(client)
    step(client, entry["id"], "notify")
    assert step(client, entry["id"], "drop", note="申辩理由成立").json()["entry"]["state"] == "dropped"
    r = step(client, entry["id"], "revoke")
    assert r.status_code == 409 and r.json()["allowed"] == []


def test_every_transition_is_recorded_with_actor_and_time(client, clock):
    entry = _listed(client)
    proposed_at = clock.now()
    clock.advance(hours=3)
    step(client, entry["id"], "notify", note="告知")
    clock.advance(days=7)
    step(client, entry["id"], "confirm", argument="waived")
    detail = client.get(f"/v1/list-entries/{entry['id']}").json()
    events = [(e["from_state"], e["action"], e["to_state"], e["actor"], e["at"]) for e in detail["events"]]
    actor = detail["events"][1]["actor"]
    assert actor.startswith("key:")  # the credential that acted, never a free-text name
    assert events == [
        (None, "propose", "proposed", "system", proposed_at.isoformat()),
        ("proposed", "notify", "notified", actor, (proposed_at + dt.timedelta(hours=3)).isoformat()),
        ("notified", "confirm", "confirmed", actor, (proposed_at + dt.timedelta(hours=3, days=7)).isoformat()),
    ]
    assert detail["events"][1]["note"] == "告知"
    assert detail["reasons"][0]["rules"] == "§4" and detail["reasons"][0]["source"] == "001 §三(一)3(1)"


def test_removal_is_refused_before_its_window_opens(client, clock, services):
    entry = _listed(client)
    step(client, entry["id"], "notify")
    step(client, entry["id"], "confirm", argument="waived")
    step(client, entry["id"], "publish")
    r = step(client, entry["id"], "request-removal")
    assert r.status_code == 409 and r.json()["opens_on"] == "2026-04-17"
    clock.set(dt.datetime(2026, 4, 17, 2, 0, tzinfo=dt.UTC))
    r = step(client, entry["id"], "request-removal")
    assert r.status_code == 200 and r.json()["entry"]["state"] == "removal_requested"
    assert approve_levels(client, services, entry["id"]).json()["entry"]["state"] == "removed"


def test_unknown_entries_are_404(client):
    assert client.get("/v1/list-entries/ent_nope").status_code == 404
    assert step(client, "ent_nope", "notify").status_code == 404


def test_entries_filter_by_list_state_region_and_page_with_a_cursor(client):
    _listed(client)
    other = make_uscc(302, division="510100")
    for source_id, day in ACCIDENTS:
        post(client, accident("B" + source_id, other, day))
    post(client, accident("L1", other, "2025-05-30", grade="larger", deaths=3))
    assert {e["list"] for e in entries(client, subject=other)} == {"joint_punishment"}
    assert len(entries(client, list="joint_punishment")) == 3
    assert [e["subject"] for e in entries(client, region="510703")] == [UNIT]
    assert len(entries(client, region="510000")) == 3
    assert entries(client, state="published") == []
    page = client.get("/v1/list-entries", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get("/v1/list-entries", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get("/v1/list-entries", params={"cursor": "!!"}).status_code == 400
