"""The short verification path (`gateway.signing.profile_verify`) against signxml's own.

`dsig.verify_xml` verifies a profile document signed by a pinned certificate itself and
leaves every other case to signxml. Each document of the corpus below — genuine, tampered in
every part, re-signed by another key, carrying another certificate, out of its validity,
rearranged — is verified both ways: the verdict must be the same, and what a verified
document yields (its signed bytes, its references) must be identical.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
from lxml import etree
from signing_helpers import NOW, ec_key, header, penalty, rsa_key

from gateway.publication.bulletin import sign_bulletin
from gateway.signing import dsig, profile_verify
from gateway.signing.dsig import DS, SignatureInvalid, Trust, verify_xml

D = f"{{{DS}}}"


def _signed(key=None) -> bytes:
    return sign_bulletin(header(), [penalty()], key or rsa_key())


def _edit(data: bytes, change) -> bytes:
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _set(path: str, value: str):
    def change(root):
        root.find(path).text = value
    return change


def _flip_b64(path: str):
    def change(root):
        el = root.find(path)
        raw = bytearray(base64.b64decode(el.text))
        raw[len(raw) // 2] ^= 0x01
        el.text = base64.b64encode(bytes(raw)).decode()
    return change


def _swap_key_info(donor: bytes):
    def change(root):
        sig = root.find(f"{D}Signature")
        sig.replace(sig.find(f"{D}KeyInfo"), copy.deepcopy(etree.fromstring(donor).find(f"{D}Signature/{D}KeyInfo")))
    return change


def _key_value(root):  # a KeyValue beside the certificate: signxml matches it, so signxml decides
    key_info = root.find(f"{D}Signature/{D}KeyInfo")
    etree.SubElement(etree.SubElement(key_info, f"{D}KeyValue"), f"{D}RSAKeyValue")


def _comment_in_content(root):
    root.insert(0, etree.Comment("not signed content"))


def _whitespace_in_signed_info(root):
    si = root.find(f"{D}Signature/{D}SignedInfo")
    si.text = "\n   "


def _drop_c14n_transform(root):
    transforms = root.find(f"{D}Signature/{D}SignedInfo/{D}Reference/{D}Transforms")
    transforms.remove(transforms[1])


def _corpus():
    genuine, ec_genuine = _signed(), _signed(ec_key())
    intruder = _signed(rsa_key("intruder"))
    sig = f"{D}Signature"
    yield "genuine rsa", genuine, NOW
    yield "genuine ecdsa", ec_genuine, NOW
    yield "signed by another key", intruder, NOW
    yield "another key, pinned certificate swapped in", _edit(intruder, _swap_key_info(genuine)), NOW
    yield "content changed", genuine.replace("罚款人民币叁万元".encode(), "罚款人民币贰万元".encode()), NOW
    yield "digest value changed", _edit(genuine, _flip_b64(f"{sig}/{D}SignedInfo/{D}Reference/{D}DigestValue")), NOW
    yield "signature value changed", _edit(genuine, _flip_b64(f"{sig}/{D}SignatureValue")), NOW
    yield "ecdsa signature changed", _edit(ec_genuine, _flip_b64(f"{sig}/{D}SignatureValue")), NOW
    yield "ecdsa signature truncated", _edit(ec_genuine, _set(f"{sig}/{D}SignatureValue", "AAAA")), NOW
    yield "signature value not base64", _edit(genuine, _set(f"{sig}/{D}SignatureValue", "***")), NOW
    yield "before the certificate's validity", genuine, NOW - dt.timedelta(days=30)
    yield "after the certificate's validity", genuine, NOW + dt.timedelta(days=400)
    yield "a KeyValue beside the certificate", _edit(genuine, _key_value), NOW
    yield "a comment added to the content", _edit(genuine, _comment_in_content), NOW
    yield "whitespace added in SignedInfo", _edit(genuine, _whitespace_in_signed_info), NOW
    yield "the C14N transform dropped", _edit(genuine, _drop_c14n_transform), NOW


def _verdict(data: bytes, trust: Trust, now: dt.datetime):
    try:
        result = verify_xml(data, trust, now=now)
    except SignatureInvalid as exc:
        return "rejected", type(exc).__name__
    return "verified", (result.signed_bytes, result.references, result.key_id, result.signature_method)


CORPUS = list(_corpus())


@pytest.mark.parametrize(("name", "data", "now"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_short_path_and_signxml_agree(monkeypatch, name, data, now):
    trust = Trust.for_keys("credit-china", [rsa_key(), ec_key()])
    taken = []
    real = profile_verify.applies
    monkeypatch.setattr(profile_verify, "applies", lambda sig: taken.append(real(sig)) or taken[-1])
    short = _verdict(data, trust, now)
    monkeypatch.setattr(profile_verify, "applies", lambda sig: False)
    general = _verdict(data, trust, now)
    assert short == general, name
    if name.startswith("genuine"):
        assert short[0] == "verified" and taken == [True]  # the short path really ran, and accepted


def test_the_short_path_rejects_what_it_must():
    """Not only agreement (two paths that accepted everything would agree): only the genuine
    documents verify, and the comment, which exclusive C14N without comments does not sign."""
    trust = Trust.for_keys("credit-china", [rsa_key(), ec_key()])
    verified = {name for name, data, now in CORPUS if _verdict(data, trust, now)[0] == "verified"}
    assert verified == {"genuine rsa", "genuine ecdsa", "a comment added to the content"}
    result = dsig.verify_xml(_edit(CORPUS[0][1], _comment_in_content), trust, now=NOW)
    assert b"not signed content" not in result.signed_bytes  # what is returned is what was signed
