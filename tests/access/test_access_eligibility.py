"""Bidder eligibility: statuses with case, entry, period and legal basis; the signed report
validates against its XSD, is stored byte for byte and verifies offline (xmlsec1 too)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from lxml import etree

from gateway.access.eligibility import SCHEMA
from gateway.signing import xsd
from gateway.signing.dsig import Trust, verify_xml
from tests.access.access_helpers import CLEAN, LISTED, seed_listed_subject
from tests.factories import make_uscc, penalty

UNKNOWN = make_uscc(61)
INVALID = LISTED[:-1] + ("0" if LISTED[-1] != "0" else "1")


@pytest.fixture
def bidders(authed, access):
    agency = authed("agency")
    seed_listed_subject(agency, access)
    assert agency.post("/v1/records", json=penalty("P1", CLEAN)).status_code == 201
    return [LISTED, CLEAN, UNKNOWN, INVALID]


def _check(client, codes, purpose="land_auction", **kw):
    return client.post("/v1/eligibility:check", json={"purpose": purpose, "bidders": codes, **kw}, **{})


def test_each_bidder_is_eligible_restricted_unknown_or_invalid(authed, bidders):
    r = _check(authed("land"), bidders, reference="绵自然资告〔2025〕12号")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [b["status"] for b in body["bidders"]] == ["restricted", "eligible", "unknown", "invalid"]
    assert body["counts"] == {"eligible": 1, "restricted": 1, "unknown": 1, "invalid": 1, "pending": 0}
    restriction = body["bidders"][0]["restrictions"][0]
    assert restriction["list_kind"] == "joint_punishment" and restriction["starts_on"] and restriction["expires_on"]
    assert "土地" in restriction["measure_zh"] and restriction["legal_basis"] and restriction["cases"]
    assert body["bidders"][3]["problem"]["reason"] == "invalid_checksum"
    assert r.headers["location"] == f"/v1/eligibility-reports/{body['report_id']}"


def test_the_signed_report_validates_is_stored_exactly_and_verifies(authed, access, bidders):
    land = authed("land")
    r = land.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": bidders},
                  headers={"Accept": "application/xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    signed = r.content
    stored = land.get(f"/v1/eligibility-reports/{r.headers['x-report-id']}")
    assert stored.status_code == 200 and stored.content == signed
    assert xsd.validate(SCHEMA, etree.fromstring(signed)) == []
    keyring = access.keyring
    verified = verify_xml(signed, Trust.for_keys("gateway", keyring), now=None, schema_name=SCHEMA)
    assert verified.key_id == keyring.active.key_id
    tampered = signed.replace(b'status="restricted"', b'status="eligible"')
    with pytest.raises(Exception, match="(?i)digest|signature|invalid"):
        verify_xml(tampered, Trust.for_keys("gateway", keyring))


@pytest.mark.skipif(not shutil.which("xmlsec1"), reason="xmlsec1 not installed")
def test_xmlsec1_verifies_the_report_offline(authed, access, bidders, tmp_path):
    r = authed("land").post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": bidders},
                            headers={"Accept": "application/xml"})
    report, cert = tmp_path / "report.xml", tmp_path / "cert.pem"
    report.write_bytes(r.content)
    cert.write_bytes(access.keyring.active.certificate_pem())
    ok = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert), str(report)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    report.write_bytes(r.content.replace(b"<Code>", b"<Code>9", 1))
    bad = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert), str(report)], capture_output=True, text=True)
    assert bad.returncode != 0


def test_another_partner_cannot_fetch_a_report(authed, bidders):
    report_id = _check(authed("land"), bidders).json()["report_id"]
    other = authed("land", seq=201)
    assert other.get(f"/v1/eligibility-reports/{report_id}").status_code == 404
    assert authed("operator").get(f"/v1/eligibility-reports/{report_id}").status_code == 200


def test_a_bank_cannot_run_a_land_auction_check(authed, bidders):
    r = _check(authed("finance"), bidders)
    assert r.status_code == 403 and r.json()["type"].endswith("purpose-not-permitted")
    assert _check(authed("finance"), bidders, purpose="bond_issuance").status_code == 200


def test_a_bond_check_is_restricted_by_securities_measures_only(authed, bidders):
    body = _check(authed("securities"), bidders, purpose="share_issuance").json()
    assert body["bidders"][0]["status"] == "restricted"
    assert all("土地" not in r["measure_zh"] for r in body["bidders"][0]["restrictions"])


def test_more_than_1000_bidders_are_refused(authed):
    r = _check(authed("land"), [make_uscc(i) for i in range(1001)])
    assert r.status_code in (400, 413)


def test_one_thousand_bidders_in_one_check(authed, bidders):
    codes = bidders + [make_uscc(1000 + i) for i in range(996)]
    body = _check(authed("land"), codes).json()
    assert len(body["bidders"]) == 1000 and body["counts"]["unknown"] == 997


def test_published_entries_name_the_entry(authed, access, bidders):
    [entry] = access.policy.entries(subject_id=None, list_kind="joint_punishment")[0]
    body = _check(authed("land"), bidders).json()
    assert body["bidders"][0]["status"] == "restricted"
    assert body["bidders"][0]["restrictions"][0]["entry"] == entry["id"]
    assert body["list_source"] == "entries"


def test_a_bidder_whose_records_are_still_being_decided_is_pending(authed, access):
    code = make_uscc(62)
    access.intake.submit("MY-AJJ", [penalty("P-NEW", code)])  # not decided yet: no consumer ran
    land = authed("land")
    body = land.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": [code]}).json()
    assert body["bidders"][0]["status"] == "pending" and body["counts"]["pending"] == 1  # never a guess
    # the client waited for the feed after that answer: now it is decided
    again = land.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": [code]}).json()
    assert again["bidders"][0]["status"] == "eligible"


def test_the_check_is_audited_with_purpose_and_report(authed, access, bidders):
    land = authed("land")
    report_id = _check(land, bidders).json()["report_id"]
    [entry] = authed("operator").get("/v1/audit", params={"actor": land.key.key_id}).json()["items"]
    assert entry["purpose"] == "land_auction" and entry["detail"]["report_id"] == report_id
    assert entry["detail"]["restricted_codes"] == [LISTED]
