"""Issue 12, rule 8: sector deadlines (docs/policy.md §8). Power-sector penalties are published
within 20 working days (`000` §三(四)) ALONGSIDE the 7-working-day 双公示 rule (`002` §二(六));
the stricter governs what is overdue; the sector comes from the agency or the subject; the
`publish_by` stored at intake follows the deployment's profile, not a setting. Through the
API, in every profile (both have the two rules), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from policy_store_helpers import post

from gateway.config import load_settings
from gateway.paths import POLICIES
from tests.factories import make_uscc, penalty

PROFILES = ("municipal-2021", "national-2023")
DECIDED = "2025-05-20"  # Tue; 7 working days → 2025-05-29, 20 → 2025-06-18 (端午 2025-05-31..06-02)
SEVEN, TWENTY = "2025-05-29", "2025-06-18"


@pytest.fixture(params=PROFILES)
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


@pytest.fixture
def power_agency(services):
    from gateway.intake import repository as intake_repo

    with services.db.write() as conn:
        intake_repo.upsert_agency(conn, code="WH-JXJ", name="武汉市经济和信息化局", region="420100", level="city",
                                  uscc=None, now=services.clock.now(), sector="electricity")
    return "WH-JXJ"


def _deadline(client, code: str) -> dict:  # noqa: ANN001
    r = client.get(f"/v1/subjects/{code}/decisions")
    assert r.status_code == 200, r.text
    [pen] = r.json()["decisions"]["penalties"]
    return pen["deadline"]


def test_rule_8_power_sector_penalty_keeps_the_7_day_rule_alongside_the_20_day_one(client, power_agency):
    unit = make_uscc(801)
    out = post(client, penalty("P801", unit, decided=DECIDED), agency=power_agency)
    assert out["publish_by"] == SEVEN  # the stricter governs what is overdue
    d = _deadline(client, unit)
    assert d["sector"] == "electricity" and d["publish_by"] == SEVEN and d["working_days"] == 7
    assert [(x["key"], x["working_days"], x["publish_by"]) for x in d["rules"]] == [
        ("double_publicity", 7, SEVEN), ("power_sector_penalty", 20, TWENTY)]


def test_rule_8_the_sector_comes_from_the_subject_when_the_agency_has_none(client):
    unit = make_uscc(802)
    record = {**penalty("P802", unit, decided=DECIDED), "sector": "electricity"}
    assert post(client, record)["publish_by"] == SEVEN
    d = _deadline(client, unit)
    assert d["sector"] == "electricity" and [x["key"] for x in d["rules"]] == ["double_publicity",
                                                                                  "power_sector_penalty"]
    # the subject's next penalty, without a sector of its own, still gets its sector's rules
    post(client, penalty("P802b", unit, decided="2025-05-21"))
    r = client.get(f"/v1/subjects/{unit}/decisions").json()["decisions"]["penalties"]
    assert all(p["deadline"]["sector"] == "electricity" for p in r)


def test_rule_8_a_penalty_outside_the_sector_has_the_general_rule_only(client):
    unit = make_uscc(803)
    assert post(client, penalty("P803", unit, decided=DECIDED))["publish_by"] == SEVEN
    d = _deadline(client, unit)
    assert d["sector"] is None and [x["key"] for x in d["rules"]] == ["double_publicity"]


def test_rule_8_a_bad_sector_is_refused(client):
    r = client.post("/v1/records?agency=MY-AJJ", json={**penalty("P804", make_uscc(804)), "sector": "Power Grid!"})
    assert r.status_code in (400, 422) or r.json()["outcome"] == "rejected", r.text


@pytest.fixture
def stricter_sector_profile(tmp_path, request) -> Path:
    """A profile whose power-sector rule is the stricter one (5 working days)."""
    data = yaml.safe_load((POLICIES / "municipal-2021.yaml").read_text(encoding="utf-8"))
    for d in data["publication"]["deadlines"]:
        if d["key"] == "power_sector_penalty":
            d["working_days"] = 5
    path = tmp_path / "strict-sector.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_rule_8_intake_publish_by_follows_the_profile_and_the_stricter_sector_rule_wins(
        db, tmp_path, clock, stricter_sector_profile):
    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.intake import repository as intake_repo

    # the setting says 30 working days; the profile's deadlines govern
    settings = load_settings(database_url=db.url, keys_dir=tmp_path / "keys",
                             policy_profile=str(stricter_sector_profile), publication_deadline_working_days=30)
    services = build(settings, db=db, clock=clock)
    with services.db.write() as conn:
        intake_repo.upsert_agency(conn, code="WH-JXJ", name="武汉市经济和信息化局", region="420100", level="city",
                                  uscc=None, now=clock.now(), sector="electricity")
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=clock.now())
    with create_app(services).test_client() as c:
        c.headers.update(headers_for(issue(services, "operator", days=3650)))
        power = c.post("/v1/records?agency=WH-JXJ", json=penalty("P805", make_uscc(805), decided=DECIDED))
        other = c.post("/v1/records?agency=MY-AJJ", json=penalty("P806", make_uscc(806), decided=DECIDED))
    assert power.json()["publish_by"] == "2025-05-27"  # 5 working days: the sector rule governs
    assert other.json()["publish_by"] == SEVEN  # not the setting's 30


def test_rule_8_cli_registers_an_agency_s_sector(client, db, capsys):
    from gateway.cli import main

    url = ["--database-url", db.url]
    assert main(["agencies", "add", "WH-JXJ", "武汉市经济和信息化局", "--region", "420100", "--level", "city",
                 "--sector", "electricity", *url]) == 0
    capsys.readouterr()
    assert main(["agencies", "list", *url]) == 0
    assert "WH-JXJ\tcity\t420100\t武汉市经济和信息化局\telectricity" in capsys.readouterr().out
    assert client.post("/v1/records?agency=WH-JXJ", json=penalty("P807", make_uscc(807), decided=DECIDED)
                       ).json()["publish_by"] == SEVEN
    d = _deadline(client, make_uscc(807))
    assert [x["key"] for x in d["rules"]] == ["double_publicity", "power_sector_penalty"]
