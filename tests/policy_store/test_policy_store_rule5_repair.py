"""Issue 12, rule 5 — credit repair (信用修复, `002` §二(七); the rule in force is
国家发展改革委令2023年第58号, which replaced 发改办财金〔2019〕527号 on 2023-05-01): the subject
applies (API and CLI); an application before the minimum publication period is refused with
the earliest day; on approval the penalty's publication is withdrawn everywhere it was sent
(a `repair` item to each destination that received it); the minimum and maximum periods per
severity are profile data. Both profiles, both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from policy_store_helpers import post
from sqlalchemy import select

from gateway.cli import main
from gateway.config import load_settings
from gateway.delivery.destinations import DestinationRegistry, parse_destinations
from gateway.store.publication_tables import publication_items as pi
from tests.factories import make_uscc, penalty

UNIT = make_uscc(351)
# decided 2025-05-20: the earliest day to apply, by profile and severity (publication.repair)
EARLIEST = {
    "municipal-2021": {"ordinary": "2025-08-20", "serious": "2026-05-20"},  # 3 months; 1 year (58号令)
    "national-2023": {"ordinary": "2026-05-20", "serious": "2026-05-20"},  # every work-safety penalty: 1 year
}
# the severity each test repairs: a national ordinary penalty waits a year, its maximum, so
# there is nothing left to repair (it is withdrawn that day)
REPAIRABLE = {"municipal-2021": False, "national-2023": True}
LAYOUT = {
    "credit-platform": {"sector": "platform", "levels": ["national"]},
    "sichuan-bank": {"sector": "finance", "item_kinds": ["penalty"], "regions": ["51"]},
    "land-office": {"sector": "land", "item_kinds": ["list"], "regions": ["51"]},  # never gets penalties
}


@pytest.fixture(params=sorted(EARLIEST))
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


@pytest.fixture
def destinations(settings):
    data = {"destinations": {name: {"adapter": "adapters.local:factory", "subscription": spec}
                             for name, spec in LAYOUT.items()}}
    return DestinationRegistry(parse_destinations(data, "test"), keys_dir=settings.keys_dir, source="test")


def _at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(2, 0), tzinfo=dt.UTC)


def _items(services, record_uid: str) -> list[tuple[str, str, str, str | None]]:
    with services.db.read() as conn:
        rows = conn.execute(select(pi.c.destination, pi.c.kind, pi.c.item_id, pi.c.ref_item_id)
                            .where(pi.c.record_uid == record_uid).order_by(pi.c.id)).all()
    return [tuple(r) for r in rows]


def _apply(client, record_id: str, **body):  # noqa: ANN001, ANN003, ANN202
    return client.post("/v1/credit-repairs", json={"uscc": UNIT, "record_id": record_id, **body})


@pytest.mark.parametrize("severity", ["ordinary", "serious"])
def test_rule_5_an_application_before_the_minimum_period_is_refused_with_the_earliest_day(
        client, clock, settings, severity):
    rec = post(client, penalty("P1", UNIT, decided="2025-05-20", serious=severity == "serious"))["record_id"]
    earliest = EARLIEST[settings.policy_profile][severity]
    r = _apply(client, rec)
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:gateway:problem:repair-too-early"
    assert r.json()["earliest_repair_on"] == earliest
    clock.set(_at(earliest) + dt.timedelta(days=3))  # recorded three days later, filed on the day
    day_before = (dt.date.fromisoformat(earliest) - dt.timedelta(days=1)).isoformat()
    assert _apply(client, rec, happened_on=day_before).status_code == 422
    if severity == "ordinary" and settings.policy_profile == "national-2023":
        r = _apply(client, rec, happened_on=earliest)  # the minimum is the maximum: withdrawn that day
        assert r.status_code == 409 and r.json()["publication_ends_on"] == earliest
        return
    r = _apply(client, rec, happened_on=earliest, note="已整改并缴清罚款")
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["state"], made["applied_on"], made["earliest_on"]) == ("applied", earliest, earliest)
    assert made["applied_by"].startswith("key:")
    assert _apply(client, rec).status_code == 409  # one open application per penalty


def test_rule_5_an_approved_repair_withdraws_the_publication_everywhere_it_was_sent(client, clock, services,
                                                                                    settings):
    serious = REPAIRABLE[settings.policy_profile]
    rec = post(client, penalty("P1", UNIT, decided="2025-05-20", serious=serious))["record_id"]
    sent = _items(services, rec)
    assert {d for d, kind, _, _ in sent if kind == "penalty.publication"} == {"credit-platform", "sichuan-bank"}
    clock.set(_at(EARLIEST[settings.policy_profile]["serious" if serious else "ordinary"]))
    repair = _apply(client, rec).json()
    r = client.post(f"/v1/credit-repairs/{repair['id']}/decision", json={"outcome": "approved", "note": "同意修复"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved" and r.json()["decided_by"].startswith("key:")
    after = _items(services, rec)
    published = {d: item for d, kind, item, _ in after if kind == "penalty.publication"}
    repaired = {d: ref for d, kind, _, ref in after if kind == "repair"}
    assert repaired == published  # to each destination that had it, referring to what it had
    decisions = client.get(f"/v1/subjects/{UNIT}/decisions").json()["decisions"]
    assert [p["status"] for p in decisions["penalties"]] == ["repaired"]
    again = client.post(f"/v1/credit-repairs/{repair['id']}/decision", json={"outcome": "refused"})
    assert again.status_code == 409 and again.json()["type"] == "urn:gateway:problem:repair-not-open"
    assert client.get(f"/v1/credit-repairs/{repair['id']}").json()["state"] == "approved"


def test_rule_5_a_refused_repair_leaves_the_publication_and_an_unknown_penalty_is_404(client, clock, services,
                                                                                     settings):
    serious = REPAIRABLE[settings.policy_profile]
    rec = post(client, penalty("P1", UNIT, decided="2025-05-20", serious=serious))["record_id"]
    assert _apply(client, "rec_nope").status_code == 404
    clock.set(_at(EARLIEST[settings.policy_profile]["serious" if serious else "ordinary"]))
    repair = _apply(client, rec).json()
    r = client.post(f"/v1/credit-repairs/{repair['id']}/decision", json={"outcome": "refused"})
    assert r.json()["state"] == "refused"
    assert [kind for _, kind, _, _ in _items(services, rec) if kind == "repair"] == []
    assert _apply(client, rec).status_code == 201  # it may apply again
    assert client.post(f"/v1/credit-repairs/{repair['id']}/decision", json={"outcome": "approved"}).status_code == 409
    clock.set(_at("2028-05-20"))  # past the maximum of either severity: nothing left to repair
    r = _apply(client, rec)
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:repair-not-open"


def test_rule_5_cli_the_subject_applies_and_the_repair_is_decided(client, db, clock, settings, capsys,
                                                                 monkeypatch):
    serious = REPAIRABLE[settings.policy_profile]
    rec = post(client, penalty("P1", UNIT, decided="2025-05-20", serious=serious))["record_id"]
    earliest = EARLIEST[settings.policy_profile]["serious" if serious else "ordinary"]
    monkeypatch.setenv("GATEWAY_CLOCK_FIXED", f"{earliest}T10:00+08:00")
    monkeypatch.setenv("GATEWAY_POLICY_PROFILE", settings.policy_profile)
    url = ["--database-url", db.url]
    day_before = (dt.date.fromisoformat(earliest) - dt.timedelta(days=1)).isoformat()
    capsys.readouterr()
    assert main(["credit-repair", "apply", UNIT, rec, "--on", day_before, *url]) == 1
    assert f"ends on {earliest}; apply from that day" in capsys.readouterr().err
    assert main(["credit-repair", "apply", UNIT, rec, *url]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["state"] == "applied" and made["applied_by"].startswith("os:")
    assert main(["credit-repair", "decide", made["id"], "approved", *url]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "approved"
    assert main(["credit-repair", "show", made["id"], *url]) == 0
    assert main(["credit-repair", "decide", "rep_nope", "approved", *url]) == 1
