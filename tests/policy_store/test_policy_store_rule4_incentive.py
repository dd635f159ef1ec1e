"""Issue 12, rule 4 (`001` §三(一)4, §三(四)2): a unit on any joint punishment list or blacklist
is not eligible; a published incentive whose condition fails is taken off (notice, then the
removal published) without waiting for expiry; a blacklist-worthy event while on the incentive
list moves the unit onto the blacklist; a refused application has its own path (evidence,
notice, argument). Both profiles, both databases."""

from __future__ import annotations

import pytest
from policy_store_helpers import approve_levels, commitment, entries, grade, post, step

from gateway.config import load_settings
from tests.factories import accident, make_uscc, penalty

UNIT = make_uscc(341)
# the list a blacklist-worthy event (and fraud) puts the unit on: 黑名单 in the municipal
# profile; 应急管理部令第11号's one list, 严重失信主体名单, in the national one
SERIOUS = {"municipal-2021": "blacklist", "national-2023": "joint_punishment"}


@pytest.fixture(params=sorted(SERIOUS))
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


@pytest.fixture
def destinations(settings):
    """A credit platform, which publishes the incentive list."""
    from gateway.delivery.destinations import DestinationRegistry, parse_destinations

    data = {"destinations": {"credit-platform": {"adapter": "adapters.local:factory",
                                                 "subscription": {"sector": "platform", "levels": ["national"]}}}}
    return DestinationRegistry(parse_destinations(data, "test"), keys_dir=settings.keys_dir, source="test")


def _list_items(services) -> list[tuple[str, dict]]:  # noqa: ANN001
    from sqlalchemy import select

    from gateway.store.publication_tables import publication_items as pi

    with services.db.read() as conn:
        rows = conn.execute(select(pi.c.kind, pi.c.fields).where(pi.c.kind.like("list.%")).order_by(pi.c.id)).all()
    return [(k, f) for k, f in rows if f.get("list") == "incentive"]


def _eligible(client) -> None:  # noqa: ANN001
    post(client, commitment("C1", UNIT))
    post(client, grade("G1", UNIT, level=1))


def _apply(client) -> dict:  # noqa: ANN001
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 201, r.text
    return r.json()


def _published(client, services) -> dict:  # noqa: ANN001
    _eligible(client)
    entry = _apply(client)
    assert step(client, entry["id"], "review").status_code == 200
    published = approve_levels(client, services, entry["id"]).json()["entry"]
    assert published["state"] == "published"
    return published


def test_rule_4_a_unit_on_a_punishment_list_in_force_is_not_eligible(client, services, settings):
    entry = _published(client, services)
    r = step(client, entry["id"], "revoke", fraud=True, note="申报材料虚假")
    [listed] = r.json()["created"]
    assert listed["list"] == SERIOUS[settings.policy_profile] and listed["state"] == "published"
    # its records are as clean as before; the listing in force alone makes it ineligible
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 422, r.text
    assert r.json()["missing"] == ["not_punished_elsewhere"]
    [c6] = [c for c in r.json()["conditions"] if c["key"] == "not_punished_elsewhere"]
    assert c6["record_ids"] == [listed["id"]]


def test_rule_4_a_listing_case_on_the_unit_s_records_makes_it_not_eligible(client):
    _eligible(client)
    post(client, accident("A1", UNIT, "2025-03-01", grade="major", deaths=0))  # 重大, no death
    r = client.post("/v1/incentive-applications", json={"uscc": UNIT})
    assert r.status_code == 422, r.text
    assert r.json()["missing"] == ["not_punished_elsewhere"]


def test_rule_4_a_published_incentive_whose_condition_fails_is_taken_off(client, services):
    entry = _published(client, services)
    post(client, penalty("P1", UNIT, decided="2025-05-30"))  # condition 3 fails now
    notified = client.get(f"/v1/list-entries/{entry['id']}").json()
    assert notified["state"] == "removal_notified" and notified["open"] is True  # in force until removed
    last = notified["events"][-1]
    assert (last["action"], last["actor"]) == ("notify-removal", "system")
    assert "no_safety_penalty" in last["note"] and notified["argument_deadline"]
    r = step(client, entry["id"], "remove")
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:approvals-pending"
    removed = approve_levels(client, services, entry["id"]).json()["entry"]
    assert removed["state"] == "removed" and removed["open"] is False
    assert removed["expires_on"] > "2028-01-01"  # long before its expiry


def test_rule_4_the_incentive_removal_is_published_where_the_inclusion_went(client, services):
    entry = _published(client, services)
    assert [k for k, _ in _list_items(services)] == ["list.inclusion"]
    post(client, penalty("P1", UNIT, decided="2025-05-30"))
    assert [k for k, _ in _list_items(services)] == ["list.inclusion"]  # the notice: still in force
    approve_levels(client, services, entry["id"])
    kinds = _list_items(services)
    assert [k for k, _ in kinds] == ["list.inclusion", "list.removal"]
    assert "移出守信联合激励" in kinds[1][1]["reason"]


def test_rule_4_a_blacklist_worthy_event_on_the_incentive_list_moves_the_unit_onto_the_blacklist(
        client, services, settings):
    entry = _published(client, services)
    post(client, accident("A1", UNIT, "2025-05-30", grade="major", deaths=0))  # not fraud, not fatal
    after = client.get(f"/v1/list-entries/{entry['id']}").json()
    assert after["state"] == "removal_notified"
    assert "not_punished_elsewhere" in after["events"][-1]["note"]
    [proposed] = entries(client, subject=UNIT, list=SERIOUS[settings.policy_profile])
    assert proposed["state"] == "proposed"


def test_rule_4_a_refused_application_has_its_own_path(client, clock):
    _eligible(client)
    entry = _apply(client)
    r = step(client, entry["id"], "refuse")
    assert r.status_code == 422 and r.json()["type"] == "urn:gateway:problem:evidence-required"
    r = step(client, entry["id"], "refuse", evidence="绵应急核〔2025〕7号 核查记录", note="承诺未公开")
    assert r.status_code == 200, r.text
    refused = r.json()["entry"]
    assert refused["state"] == "refusal_notified" and refused["argument_deadline"]
    assert refused["allowed_actions"] == ["confirm", "accept-argument"]
    r = step(client, entry["id"], "confirm")
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:argument-period-open"
    assert step(client, entry["id"], "accept-argument", note="申辩成立").json()["entry"]["state"] == "applied"
    step(client, entry["id"], "refuse", evidence="复核记录")
    final = step(client, entry["id"], "confirm", argument="rejected").json()["entry"]
    assert final["state"] == "refused" and final["open"] is False
    events = client.get(f"/v1/list-entries/{entry['id']}").json()["events"]
    assert events[1]["detail"]["evidence"] == "绵应急核〔2025〕7号 核查记录"
    assert _apply(client)["state"] == "applied"  # it may apply again


def test_rule_4_cli_refuse_needs_the_evidence(client, db, clock, settings, capsys, monkeypatch):
    import json

    from gateway.cli import main

    _eligible(client)
    entry = _apply(client)
    monkeypatch.setenv("GATEWAY_CLOCK_FIXED", clock.now().isoformat())
    monkeypatch.setenv("GATEWAY_POLICY_PROFILE", settings.policy_profile)
    url = ["--database-url", db.url]
    capsys.readouterr()
    assert main(["list-entries", "transition", entry["id"], "refuse", *url]) == 1
    assert "needs the evidence" in capsys.readouterr().err
    assert main(["list-entries", "transition", entry["id"], "refuse", "--evidence", "核查记录", *url]) == 0
    assert json.loads(capsys.readouterr().out)["entry"]["state"] == "refusal_notified"
