"""Receipts: signed by the destination, echoing the bulletin's digests; mismatches detected."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from signing_helpers import NOW, all_kinds, header, rsa_key

from gateway.publication.bulletin import parse_bulletin, sign_bulletin
from gateway.signing.dsig import Trust, reference_digests
from gateway.signing.evidence import build_evidence_zip
from gateway.signing.receipt import (
    ItemOutcome,
    Outcome,
    ReceiptInvalid,
    ReceiptMismatch,
    build_receipt,
    verify_receipt,
)

GATEWAY, DESTINATION = "gw", "credit-china"


def _exchange():
    bulletin = sign_bulletin(header(), all_kinds(), rsa_key(GATEWAY))
    at_destination = parse_bulletin(bulletin, Trust.for_keys("gateway", [rsa_key(GATEWAY)]), now=NOW)
    outcomes = [ItemOutcome(i.item_id, Outcome.ACCEPTED) for i in at_destination.items]
    outcomes[1] = ItemOutcome(outcomes[1].item_id, Outcome.REJECTED, "XK_WSH.duplicate", "文书号已存在")
    outcomes[2] = ItemOutcome(outcomes[2].item_id, Outcome.DUPLICATE)
    receipt = build_receipt(
        at_destination, outcomes, key=rsa_key(DESTINATION), delivery_id="d-42", receiver="credit-china", received=NOW
    )
    return bulletin, receipt, outcomes


def test_receipt_verifies_against_the_destination_and_the_sent_digests():
    bulletin, receipt, outcomes = _exchange()
    verified = verify_receipt(
        receipt,
        Trust.for_keys(DESTINATION, [rsa_key(DESTINATION)]),
        reference_digests(bulletin),
        expected_bulletin_id="b-2024-0001",
        expected_delivery_id="d-42",
        now=NOW,
    )
    assert verified.outcomes == tuple(dataclasses.replace(o, status=Outcome(o.status)) for o in outcomes)
    assert verified.outcomes[1].code == "XK_WSH.duplicate" and verified.outcomes[1].message == "文书号已存在"
    assert not verified.all_accepted
    assert verified.key_id == rsa_key(DESTINATION).key_id
    assert verified.received == NOW


def test_digest_echo_mismatch_is_detected():
    _, receipt, _ = _exchange()
    other = sign_bulletin(header(sequence=18), all_kinds(), rsa_key(GATEWAY))
    with pytest.raises(ReceiptMismatch, match="digest echo"):
        verify_receipt(receipt, Trust.for_keys(DESTINATION, [rsa_key(DESTINATION)]), reference_digests(other), now=NOW)


def test_receipt_for_another_delivery_is_detected():
    bulletin, receipt, _ = _exchange()
    with pytest.raises(ReceiptMismatch, match="delivery"):
        verify_receipt(
            receipt, Trust.for_keys(DESTINATION, [rsa_key(DESTINATION)]), reference_digests(bulletin),
            expected_delivery_id="d-43", now=NOW,
        )


def test_receipt_signed_by_someone_else_is_rejected():
    bulletin, receipt, _ = _exchange()
    with pytest.raises(ReceiptInvalid):
        verify_receipt(receipt, Trust.for_keys(DESTINATION, [rsa_key(GATEWAY)]), reference_digests(bulletin), now=NOW)


def test_tampered_receipt_outcome_is_rejected():
    bulletin, receipt, _ = _exchange()
    forged = receipt.replace(b'status="rejected"', b'status="accepted"', 1)
    assert forged != receipt
    with pytest.raises(ReceiptInvalid):
        verify_receipt(forged, Trust.for_keys(DESTINATION, [rsa_key(DESTINATION)]), reference_digests(bulletin), now=NOW)


def test_evidence_zip_holds_everything_and_says_how_to_verify():
    bulletin, receipt, _ = _exchange()
    kw = {"gateway_certificate": rsa_key(GATEWAY).certificate_pem(),
          "receipt_certificates": [rsa_key(DESTINATION).certificate_pem()], "published": {"certificates": []}}
    data = build_evidence_zip(bulletin, [receipt], **kw)
    assert data == build_evidence_zip(bulletin, [receipt], **kw)  # deterministic
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [
            "README.txt", "bulletin.xml", "certificates/gateway-certificates.json", "certificates/gateway.pem",
            "certificates/receipt-1.pem", "receipt-1.xml",
        ]
        readme = zf.read("README.txt").decode()
        assert "xmlsec1 --verify --enabled-key-data x509 --trusted-pem" in readme and "gateway verify" in readme
        assert zf.read("bulletin.xml") == bulletin
