"""Interoperability: every bulletin and receipt verifies with the reference tool, xmlsec1."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from signing_helpers import NOW, all_kinds, ec_key, header, penalty, rsa_key

from gateway.publication.bulletin import parse_bulletin, sign_bulletin
from gateway.signing.dsig import Trust
from gateway.signing.receipt import ItemOutcome, build_receipt

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(
    XMLSEC1 is None, reason="xmlsec1 is not installed (apt-get install xmlsec1; .ci/run installs it)"
)


def _xmlsec1_verify(tmp_path, document: bytes, cert_pem: bytes, how: str = "--trusted-pem"):
    # keys only from the X.509 certificate in KeyInfo, chained to the trusted one (docs/signing.md)
    doc, cert = tmp_path / "doc.xml", tmp_path / "cert.pem"
    doc.write_bytes(document)
    cert.write_bytes(cert_pem)
    # the test certificates are valid around NOW (a fixed date), so xmlsec1 checks them then
    when = ["--verification-time", NOW.strftime("%Y-%m-%d %H:%M:%S")]
    return subprocess.run(
        [XMLSEC1, "--verify", "--enabled-key-data", "x509", *when, how, str(cert), str(doc)], capture_output=True,
        text=True, timeout=60
    )


@pytest.mark.parametrize("key", [rsa_key, ec_key], ids=["rsa-sha256", "ecdsa-p256-sha256"])
def test_bulletins_verify_with_xmlsec1(tmp_path, key):
    data = sign_bulletin(header(), all_kinds(), key())
    result = _xmlsec1_verify(tmp_path, data, key().certificate_pem())
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 1/1" in result.stderr


def test_bulletin_verifies_with_xmlsec1_trusting_the_certificate(tmp_path):
    # --trusted-pem also checks the certificate itself (self-signed, so it is its own anchor)
    result = _xmlsec1_verify(
        tmp_path, sign_bulletin(header(), [penalty()], rsa_key()), rsa_key().certificate_pem(), "--trusted-pem"
    )
    assert result.returncode == 0, result.stderr


def test_receipts_verify_with_xmlsec1(tmp_path):
    bulletin = parse_bulletin(
        sign_bulletin(header(), [penalty()], rsa_key()), Trust.for_keys("gw", [rsa_key()]), now=NOW
    )
    receipt = build_receipt(
        bulletin, [ItemOutcome("i-1", "accepted")], key=ec_key("dest"), delivery_id="d-1", receiver="credit-china"
    )
    result = _xmlsec1_verify(tmp_path, receipt, ec_key("dest").certificate_pem())
    assert result.returncode == 0, result.stderr


def test_xmlsec1_rejects_a_tampered_bulletin(tmp_path):
    data = sign_bulletin(header(), [penalty()], rsa_key()).replace("叁万元".encode(), "贰万元".encode())
    result = _xmlsec1_verify(tmp_path, data, rsa_key().certificate_pem())
    assert result.returncode != 0
