"""Bulletins: schema before signing, round trip of every item kind, and tamper detection."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest
from lxml import etree
from signing_helpers import NOW, all_kinds, ec_key, header, licence, penalty, rsa_key

from gateway.publication.bulletin import (
    NS,
    BulletinInvalid,
    BulletinRejected,
    build_bulletin,
    parse_bulletin,
    sign_bulletin,
)
from gateway.publication.content import PENALTY_FIELDS
from gateway.signing.dsig import DS, Trust, reference_digests


def trust(*keys) -> Trust:
    return Trust.for_keys("credit-china", keys or (rsa_key(),))


def signed(items=None, key=None) -> bytes:
    return sign_bulletin(header(), items if items is not None else all_kinds(), key or rsa_key())


def test_every_item_kind_round_trips_through_sign_and_verify():
    items = all_kinds()
    data = signed(items)
    verified = parse_bulletin(data, trust(), now=NOW)
    assert verified.header == header()
    assert [dataclasses.astuple(i) for i in verified.items] == [
        (i.item_id, i.kind, i.subject, dict(i.fields), i.record_id) for i in items
    ]
    assert verified.key_id == rsa_key().key_id
    assert verified.digests == reference_digests(data)
    assert len(verified.digests) == 1 and verified.digests[0].uri == ""


def test_ecdsa_p256_bulletins_verify():
    verified = parse_bulletin(signed([penalty()], ec_key()), trust(ec_key()), now=NOW)
    assert verified.key_id == ec_key().key_id


def test_key_id_is_in_key_name_and_certificate_in_key_info():
    root = etree.fromstring(signed([penalty()]))
    assert root.findtext(f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}KeyName") == rsa_key().key_id
    assert root.find(f".//{{{DS}}}X509Certificate") is not None
    ref = root.find(f".//{{{DS}}}Reference")
    assert ref.get("URI") == ""


def test_penalty_fields_follow_the_records_model_order():
    from gateway.domain.records import Penalty

    assert [n for n, _ in PENALTY_FIELDS] == list(Penalty.model_fields)


@pytest.mark.parametrize(
    "item, problem",
    [
        (penalty(CF_NR_FK="-1"), "CF_NR_FK"),
        (penalty(CF_XDR_MC=None), "CF_XDR_MC"),
        (penalty(unknown_field="x"), "unknown_field"),
        (dataclasses.replace(penalty(), subject="not-a-uscc"), "subject"),
        (dataclasses.replace(penalty(), kind="penalty.bogus"), "penalty.bogus"),
    ],
)
def test_schema_rejects_invalid_bulletins_before_signing(item, problem):
    with pytest.raises(BulletinInvalid) as exc:
        sign_bulletin(header(), [item], rsa_key())
    assert problem in str(exc.value)


def test_duplicate_item_ids_and_naive_times_are_refused():
    with pytest.raises(BulletinInvalid, match="duplicate"):
        build_bulletin(header(), [penalty("i-1"), licence("i-1")])
    with pytest.raises(BulletinInvalid, match="timezone"):
        build_bulletin(header(created=dt.datetime(2024, 1, 1)), [penalty()])


def test_empty_bulletin_is_invalid():
    with pytest.raises(BulletinInvalid):
        build_bulletin(header(), [])


# --- tampering -------------------------------------------------------------------------


def _mutate(data: bytes, change) -> bytes:
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def q(tag):
    return f"{{{NS}}}{tag}"


def test_every_signed_byte_is_protected():
    data = signed([penalty()])
    text = data.decode()
    # change one character in the header, in an item, in SignedInfo and in the signature value
    for needle, replacement in [
        ("<b:Sequence>17<", "<b:Sequence>18<"),
        ("罚款人民币叁万元", "罚款人民币贰万元"),
        ("<b:CF_NR_FK>3<", "<b:CF_NR_FK>0<"),
        ('kind="penalty.publication"', 'kind="penalty.withdrawal"'),
    ]:
        assert needle in text, needle
        with pytest.raises(BulletinRejected):
            parse_bulletin(text.replace(needle, replacement, 1).encode(), trust(), now=NOW)
    root = etree.fromstring(data)
    digest = root.find(f".//{{{DS}}}DigestValue")
    sigval = root.find(f".//{{{DS}}}SignatureValue")
    for el in (digest, sigval):
        original = el.text
        el.text = ("A" if original[0] != "A" else "B") + original[1:]
        with pytest.raises(BulletinRejected):
            parse_bulletin(etree.tostring(root), trust(), now=NOW)
        el.text = original
    assert parse_bulletin(etree.tostring(root), trust(), now=NOW)


def test_reordering_items_is_detected():
    data = signed()

    def swap(root):
        items = root.find(q("Items"))
        first = items[0]
        items.remove(first)
        items.append(first)

    with pytest.raises(BulletinRejected):
        parse_bulletin(_mutate(data, swap), trust(), now=NOW)


def test_signature_wrapping_moving_signed_content_is_detected():
    """XSW: keep the genuine signed document inside, present forged items outside."""
    data = signed([penalty()])

    def wrap(root):
        sig = root.find(f"{{{DS}}}Signature")
        genuine = copy.deepcopy(root)
        items = root.find(q("Items"))
        items[0].find(q("Penalty")).find(q("CF_NR")).text = "不予处罚"
        obj = etree.SubElement(sig, f"{{{DS}}}Object")
        obj.append(genuine)

    with pytest.raises(BulletinRejected):
        parse_bulletin(_mutate(data, wrap), trust(), now=NOW)


def test_second_reference_is_rejected():
    data = signed([penalty()])

    def add_ref(root):
        si = root.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
        si.append(copy.deepcopy(si.find(f"{{{DS}}}Reference")))

    with pytest.raises(BulletinRejected, match="Reference|schema"):
        parse_bulletin(_mutate(data, add_ref), trust(), now=NOW)


def test_second_signature_is_rejected():
    data = signed([penalty()])

    def add_sig(root):
        root.find(q("Items")).append(copy.deepcopy(root.find(f"{{{DS}}}Signature")))

    with pytest.raises(BulletinRejected):
        parse_bulletin(_mutate(data, add_sig), trust(), now=NOW)


def test_valid_signature_by_another_key_fails_against_the_pinned_trust():
    other = rsa_key("intruder")
    forged = signed([penalty()], other)
    assert parse_bulletin(forged, trust(other), now=NOW)  # a valid signature ...
    with pytest.raises(BulletinRejected, match="not one pinned"):
        parse_bulletin(forged, trust(rsa_key()), now=NOW)  # ... but not by the pinned party


def test_swapping_the_certificate_in_key_info_is_detected():
    """Sign with the intruder key but present the pinned certificate: the signature fails."""
    good, forged = etree.fromstring(signed([penalty()])), etree.fromstring(signed([penalty()], rsa_key("intruder")))
    xpath = f"{{{DS}}}Signature/{{{DS}}}KeyInfo"
    sig = forged.find(f"{{{DS}}}Signature")
    sig.replace(sig.find(f"{{{DS}}}KeyInfo"), copy.deepcopy(good.find(xpath)))
    with pytest.raises(BulletinRejected, match="InvalidSignature|verification failed"):
        parse_bulletin(etree.tostring(forged), trust(), now=NOW)


def test_expired_certificate_is_detected():
    data = signed([penalty()])
    with pytest.raises(BulletinRejected, match="expired"):
        parse_bulletin(data, trust(), now=NOW + dt.timedelta(days=400))


def test_wrong_algorithm_for_the_counterparty_is_refused():
    only_ec = Trust("credit-china", (rsa_key().certificate,), suites=frozenset({"ecdsa-p256-sha256"}))
    with pytest.raises(BulletinRejected, match="not accepted"):
        parse_bulletin(signed([penalty()]), only_ec, now=NOW)


def test_doctype_and_entities_are_refused_before_verification():
    data = signed([penalty()])
    evil = data.replace(b"?>", b'?><!DOCTYPE b [<!ENTITY x "y">]>', 1)
    with pytest.raises(BulletinRejected, match="not acceptable XML"):
        parse_bulletin(evil, trust(), now=NOW)


def test_unsigned_bulletin_is_rejected():
    unsigned = etree.tostring(build_bulletin(header(), [penalty()]))
    with pytest.raises(BulletinRejected, match="exactly one ds:Signature"):
        parse_bulletin(unsigned, trust(), now=NOW)


def test_trust_must_pin_something():
    with pytest.raises(ValueError):
        Trust("nobody")


def test_ca_anchored_trust_accepts_a_chain_to_the_anchor_only():
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gateway.signing.keys import SigningKey, parse_subject, self_signed_certificate

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = self_signed_certificate(ca_key, parse_subject("CN=Test CA"), ca=True, now=NOW, days=3650)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_cert = self_signed_certificate(leaf_key, parse_subject("CN=leaf"), issuer=(ca_key, ca_cert), now=NOW)
    leaf = SigningKey(leaf_key, leaf_cert, (ca_cert,))
    anchored = Trust("province", anchors=(ca_cert,))
    verified = parse_bulletin(signed([penalty()], leaf), anchored, now=NOW + dt.timedelta(days=1))
    assert verified.signer_subject == "CN=leaf"
    with pytest.raises(BulletinRejected):
        parse_bulletin(signed([penalty()], rsa_key()), anchored, now=NOW + dt.timedelta(days=1))


def test_a_bulletin_signed_before_the_penalty_codes_were_renamed_still_verifies_and_reads_renamed():
    # bulletins signed before migration 0008 carry CF_XZCFJDSWH / CF_WFSS; evidence and
    # receipts must still verify them, and they read as CF_WSH / CF_SY
    from gateway.signing.signer import sign_xml

    root = build_bulletin(header(), [penalty()])
    for el in root.iter(f"{{{NS}}}CF_WSH", f"{{{NS}}}CF_SY"):
        el.tag = f"{{{NS}}}" + {"CF_WSH": "CF_XZCFJDSWH", "CF_SY": "CF_WFSS"}[etree.QName(el).localname]
    verified = parse_bulletin(sign_xml(root, rsa_key()), trust(), now=NOW)

    fields = verified.items[0].fields
    assert fields["CF_WSH"] == penalty().fields["CF_WSH"] and fields["CF_SY"] == penalty().fields["CF_SY"]
    assert "CF_XZCFJDSWH" not in fields
