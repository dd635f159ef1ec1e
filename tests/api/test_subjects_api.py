"""The merged credit file: lookup by any identifier, names, aliases, precise errors."""

from __future__ import annotations

from tests.factories import accident, make_uscc, penalty

A = make_uscc(7)


def test_the_credit_file_merges_records_from_several_agencies(client):
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A, name="绵阳市某化工有限公司"))
    client.post("/v1/records?agency=FC-AJJ", json=accident("A1", A, "2025-02-03"))
    body = client.get(f"/v1/subjects/{A}").json()
    assert body["subject"] == A and body["category"] == "legal_person"
    assert {e["agency"] for kind in body["records"].values() for e in kind} == {"MY-AJJ", "FC-AJJ"}
    schemes = {(i["scheme"], i["value"]) for i in body["identifiers"]}
    assert ("uscc", A) in schemes and ("org_code", A[8:17]) in schemes


def test_names_seen_are_normalised_and_remembered(client):
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A, name="绵阳市某化工(集团) 有限公司"))
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P2", A, name="绵阳市某化工（集团）有限公司"))
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P3", A, name="绵阳某化工"))
    names = [n["name"] for n in client.get(f"/v1/subjects/{A}").json()["names"]]
    assert names.count("绵阳市某化工（集团）有限公司") == 1 and "绵阳某化工" in names and len(names) == 2


def test_an_organisation_code_finds_the_subject_whose_uscc_embeds_it(client):
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A))
    org = A[8:16] + "-" + A[16]
    body = client.get(f"/v1/subjects/{org}")
    assert body.status_code == 200 and body.json()["subject"] == A


def test_a_legacy_org_code_record_joins_the_uscc_subject(client):
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A))
    legacy = accident("A1", A, "2025-01-05")
    legacy["subject"] = {"org_code": A[8:17], "name": "某矿业"}
    r = client.post("/v1/records?agency=MY-AJJ", json=legacy)
    assert r.status_code == 201, r.text
    assert r.json()["subject"] in (A, f"org:{A[8:17]}")
    assert "accident" in client.get(f"/v1/subjects/{A}").json()["records"]


def test_an_unknown_valid_code_is_404_with_the_normalised_code(client):
    other = make_uscc(99)
    r = client.get(f"/v1/subjects/{other.lower()}")
    assert r.status_code == 404 and r.json()["normalized"] == other


def test_an_invalid_code_is_400_naming_the_rule(client):
    bad = A[:-1] + ("1" if A[-1] != "1" else "2")
    r = client.get(f"/v1/subjects/{bad}")
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["reason"] == "invalid_checksum" and err["position"] == 18


def test_history_can_be_left_out(client):
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A))
    client.post("/v1/records?agency=MY-AJJ", json=penalty("P1", A, CF_NR_FK="5"))
    full = client.get(f"/v1/subjects/{A}").json()["records"]["penalty"][0]["versions"]
    current = client.get(f"/v1/subjects/{A}?history=false").json()["records"]["penalty"][0]["versions"]
    assert len(full) == 2 and len(current) == 1 and current[0]["version"] == 2
