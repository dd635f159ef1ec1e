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


def _keyvalue_forgery(signed: bytes, replace: tuple[bytes, bytes]) -> bytes:
    """The report without its signature, changed, re-signed with a stranger's key carrying
    only a <ds:KeyValue> (no certificate)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from signxml import XMLSigner, methods

    root = etree.fromstring(signed)
    for sig in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(sig)
    data = etree.tostring(root, encoding="UTF-8").replace(*replace)
    signer = XMLSigner(method=methods.enveloped, signature_algorithm="rsa-sha256", digest_algorithm="sha256",
                       c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signer.namespaces = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return etree.tostring(signer.sign(etree.fromstring(data), key=pem), encoding="UTF-8")


@pytest.fixture
def report_files(authed, access, bidders, tmp_path):
    """A genuine report with a restricted bidder, the forgery that makes it eligible, and the
    gateway certificate as a partner pins it (from GET /v1/trust/certificates)."""
    land = authed("land")
    r = land.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": bidders},
                  headers={"Accept": "application/xml"})
    assert b'status="restricted"' in r.content
    published = land.get("/v1/trust/certificates").json()["certificates"]
    active = [c for c in published if c["active"]]
    assert [c["key_id"] for c in active] == [access.keyring.active.key_id]
    report, forged, cert = tmp_path / "report.xml", tmp_path / "forged" / "report.xml", tmp_path / "gateway-cert.pem"
    forged.parent.mkdir()
    report.write_bytes(r.content)
    forged_bytes = _keyvalue_forgery(r.content, (b'status="restricted"', b'status="eligible"'))
    assert b'status="restricted"' not in forged_bytes
    forged.write_bytes(forged_bytes)
    cert.write_text(active[0]["pem"])
    (forged.parent / "gateway-cert.pem").write_text(active[0]["pem"])
    return report, forged, cert


def test_gateway_verify_takes_the_report_and_refuses_the_forgery(report_files, capsys):
    from gateway.cli import main

    report, forged, cert = report_files
    capsys.readouterr()
    assert main(["verify", str(report), "--cert", str(cert)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK (eligibility-report)") and f"{LISTED} restricted" in out
    assert main(["verify", str(forged), "--cert", str(cert)]) == 1
    assert capsys.readouterr().out.startswith("INVALID:")


@pytest.mark.skipif(not shutil.which("xmlsec1"), reason="xmlsec1 not installed")
def test_the_partner_guides_xmlsec1_command_takes_the_report_and_refuses_the_forgery(report_files):
    from gateway.paths import ROOT

    guide = (ROOT / "docs" / "partner-guide.md").read_text(encoding="utf-8")
    (command,) = [line.strip() for line in guide.splitlines() if line.strip().startswith("xmlsec1 ")]
    report, forged, _ = report_files
    argv = command.split()
    ok = subprocess.run(argv, cwd=report.parent, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(argv, cwd=forged.parent, capture_output=True, text=True)
    assert bad.returncode != 0, "a report forged from restricted to eligible passed the documented command"


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
