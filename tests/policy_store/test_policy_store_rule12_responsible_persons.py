"""Issue 12, rule 12: responsible persons (`001` §三(一)6, §三(二)2; docs/policy.md §1). A listing
names its responsible persons (法定代表人、主要负责人、分管安全负责人) from the records behind it,
keyed by ID number (one person across roles and records), the number masked everywhere but to
the providing agency. Through the API, in both profiles, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_store_helpers import entries, step

from gateway.access.testing import headers_for, issue
from gateway.config import load_settings
from gateway.domain.identifiers import idcard
from tests.factories import accident, make_uscc

UNIT = make_uscc(1201)
LEGAL = "51070319700101123" + idcard.calc_check_digit("51070319700101123")
SAFETY = "51070319820202456" + idcard.calc_check_digit("51070319820202456")


@pytest.fixture(params=["municipal-2021", "national-2023"])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _persons(role_and_ids: list[tuple[str, str, str]]) -> list[dict]:
    return [{"role": role, "name": name, "id_number": number} for role, name, number in role_and_ids]


def _listed(client) -> dict:  # noqa: ANN001
    people = _persons([("legal_representative", "王某", LEGAL), ("principal", "王某", LEGAL),
                       ("safety_head", "李某", SAFETY)])
    # two 较大 accidents within 12 months (a listing in both profiles), in one batch: the entry rests on both
    batch = [accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3, responsible_persons=people),
             accident("A2", UNIT, "2025-05-01", grade="larger", deaths=3, responsible_persons=people)]
    r = client.post("/v1/records:batch?agency=MY-AJJ", json={"records": batch})
    assert r.status_code == 200, r.text
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    return jp


def test_rule_12_a_listing_names_its_responsible_persons_keyed_by_id_number(client):
    jp = _listed(client)
    detail = client.get(f"/v1/list-entries/{jp['id']}").json()
    persons, behind = detail["responsible_persons"], detail["record_uids"]
    assert [(p["name"], p["roles"], p["record_ids"]) for p in persons] == [
        ("王某", ["legal_representative", "principal"], behind), ("李某", ["safety_head"], behind)]
    assert persons[0]["key"] == idcard.person_key(LEGAL) and persons[0]["key"] != persons[1]["key"]
    assert LEGAL not in str(persons)  # the operator sees them masked
    assert persons[0]["id_number"] == idcard.mask(LEGAL)


def test_rule_12_only_the_providing_agency_sees_the_full_id_number(client, services):
    jp = _listed(client)
    own = headers_for(issue(services, "agency", agency="MY-AJJ", seq=11))
    other = headers_for(issue(services, "agency", agency="FC-AJJ", seq=12))
    mine = client.get(f"/v1/list-entries/{jp['id']}", headers=own).json()["responsible_persons"]
    assert [p["id_number"] for p in mine] == [LEGAL, SAFETY]
    theirs = client.get(f"/v1/list-entries/{jp['id']}", headers=other).text
    assert LEGAL not in theirs and SAFETY not in theirs and idcard.mask(SAFETY) in theirs
    # the credit answer too, once the listing is published: the providing agency in full, others masked
    for action, extra in (("notify", {}), ("confirm", {"argument": "waived"}), ("publish", {})):
        assert step(client, jp["id"], action, **extra).status_code == 200
    assert {p["id_number"] for p in client.get(f"/v1/credit/{UNIT}", headers=own).json()["persons"]} == {LEGAL, SAFETY}
    for headers in (other, headers_for(issue(services, "land", seq=13))):
        text = client.get(f"/v1/credit/{UNIT}", headers=headers).text
        assert LEGAL not in text and SAFETY not in text and idcard.mask(LEGAL) in text


def test_rule_12_a_forged_id_number_is_refused(client):
    forged = LEGAL[:-1] + ("0" if LEGAL[-1] != "0" else "1")
    r = client.post("/v1/records?agency=MY-AJJ", json=accident(
        "A3", make_uscc(1202), "2025-05-01", grade="larger", deaths=3,
        responsible_persons=_persons([("principal", "王某", forged)])))
    body = r.json()
    assert r.status_code == 422 or body.get("outcome") == "rejected", r.text
    assert "responsible_persons.0.id_number" in r.text


def test_rule_12_an_xml_import_carries_the_responsible_persons():
    from gateway.intake.files import parse_file

    fixture = Path(__file__).parents[1] / "intake" / "fixtures" / "records_valid.xml"
    head = fixture.read_text(encoding="utf-8").split("<record ")[0]
    xml = head + f"""<record kind="accident" sourceRecordId="SG-1" region="510703">
    <subject uscc="{UNIT}" name="绵阳市某矿业有限公司"/>
    <data><occurred_on>2025-05-01</occurred_on><grade>较大</grade><deaths>3</deaths>
      <responsible_persons><person role="principal" name="王某" idNumber="{LEGAL}"/></responsible_persons>
    </data></record></records>"""
    parsed = parse_file(xml.encode(), "records.xml", "application/xml")
    assert parsed.problems == []
    [rec] = parsed.records
    assert rec.record["data"]["responsible_persons"] == [{"role": "principal", "name": "王某", "id_number": LEGAL}]
