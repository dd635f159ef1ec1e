"""Optional national suite: SM2 signatures over SM3 digests (GB/T 32918, GB/T 32905).

Same profile as `dsig` (enveloped, one Reference URI="", exclusive C14N, KeyName = key id),
different algorithms, selectable per destination. signxml and xmlsec1 know no SM
algorithms, so this module builds and checks the Signature itself with lxml's C14N; the
algorithm identifiers are OID URNs (docs/signing.md):

  digest    urn:oid:1.2.156.10197.1.401   SM3
  signature urn:oid:1.2.156.10197.1.501   SM2 signature with SM3 (r || s, 32 bytes each)

Signer identity: Z_A uses the default user ID "1234567812345678" (GM/T 0009-2012 §10).
Keys are raw (32-byte private scalar, 65-byte uncompressed public point); counterparties
are pinned by public key (`Sm2Trust`) because `cryptography` cannot read SM2 certificates.

SM2 arithmetic comes from `gmalg` (pure Python, MIT; nonce k from `secrets.randbits` with
rejection sampling into [1, n-1]). `gmssl` was rejected: it draws k with `random.choice`.
gmalg is not constant-time; see docs/signing.md for when that matters. Install with
`pip install gmalg`; without it `Sm2Unavailable` is raised.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from lxml import etree

from gateway import xmlsafe
from gateway.signing.dsig import DS, ENVELOPED, EXC_C14N, SignatureInvalid

SM3_URI = "urn:oid:1.2.156.10197.1.401"
SM2_SM3_URI = "urn:oid:1.2.156.10197.1.501"
DEFAULT_UID = b"1234567812345678"
_NS = {"ds": DS}


class Sm2Unavailable(RuntimeError):
    """The SM2 library (gmalg) is not installed."""


def _gmalg():
    try:
        import gmalg
    except ImportError:
        raise Sm2Unavailable("the SM2 suite needs the gmalg package (pip install gmalg)") from None
    return gmalg


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


@dataclass(frozen=True)
class Sm2Key:
    private: bytes  # 32 bytes
    public: bytes  # 65 bytes, 04 || x || y
    uid: bytes = DEFAULT_UID

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public).hexdigest()[:16]

    @classmethod
    def generate(cls) -> Sm2Key:
        private, public = _gmalg().SM2().generate_keypair()
        return cls(private.rjust(32, b"\0"), public)

    def sign(self, message: bytes) -> bytes:
        r, s = _gmalg().SM2(self.private, self.uid, self.public).sign(message)
        return r.rjust(32, b"\0") + s.rjust(32, b"\0")


def sm2_verify(public: bytes, message: bytes, signature: bytes, uid: bytes = DEFAULT_UID) -> bool:
    gmalg = _gmalg()
    if len(signature) != 64 or not gmalg.SM2().verify_pk(public):
        return False
    return gmalg.SM2(uid=uid, pk=public).verify(message, signature[:32], signature[32:])


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def sign_xml_sm2(root: etree._Element, key: Sm2Key) -> bytes:
    """Sign a document root (a copy is signed) in the profile with SM2/SM3."""
    doc = etree.fromstring(etree.tostring(root))
    digest = base64.b64encode(sm3(_c14n(doc))).decode()
    sig = etree.SubElement(doc, _ds("Signature"), nsmap={"ds": DS})
    si = etree.SubElement(sig, _ds("SignedInfo"))
    etree.SubElement(si, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(si, _ds("SignatureMethod"), Algorithm=SM2_SM3_URI)
    ref = etree.SubElement(si, _ds("Reference"), URI="")
    transforms = etree.SubElement(ref, _ds("Transforms"))
    etree.SubElement(transforms, _ds("Transform"), Algorithm=ENVELOPED)
    etree.SubElement(transforms, _ds("Transform"), Algorithm=EXC_C14N)
    etree.SubElement(ref, _ds("DigestMethod"), Algorithm=SM3_URI)
    etree.SubElement(ref, _ds("DigestValue")).text = digest
    etree.SubElement(sig, _ds("SignatureValue")).text = base64.b64encode(key.sign(_c14n(si))).decode()
    etree.SubElement(etree.SubElement(sig, _ds("KeyInfo")), _ds("KeyName")).text = key.key_id
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class Sm2Trust:
    """Pinned SM2 public keys of ONE counterparty."""

    name: str
    public_keys: tuple[bytes, ...]
    uid: bytes = DEFAULT_UID


def verify_xml_sm2(data: bytes, trust: Sm2Trust) -> etree._Element:
    """Verify an SM2/SM3 signed document; return the signed content (parsed from C14N bytes)."""
    try:
        root = xmlsafe.parse(data)
    except (xmlsafe.UnsafeXml, xmlsafe.MalformedXml) as exc:
        raise SignatureInvalid(f"not acceptable XML: {exc}") from None
    sigs = list(root.iter(_ds("Signature")))
    if len(sigs) != 1 or sigs[0].getparent() is not root:
        raise SignatureInvalid("expected exactly one ds:Signature, a child of the document element")
    sig = sigs[0]
    si = sig.find("ds:SignedInfo", _NS)
    refs = [] if si is None else si.findall("ds:Reference", _NS)
    expected = (
        si is not None
        and si.find("ds:CanonicalizationMethod", _NS) is not None
        and si.find("ds:CanonicalizationMethod", _NS).get("Algorithm") == EXC_C14N
        and si.find("ds:SignatureMethod", _NS) is not None
        and si.find("ds:SignatureMethod", _NS).get("Algorithm") == SM2_SM3_URI
        and len(refs) == 1
        and refs[0].get("URI") == ""
        and [t.get("Algorithm") for t in refs[0].findall("ds:Transforms/ds:Transform", _NS)] == [ENVELOPED, EXC_C14N]
        and refs[0].find("ds:DigestMethod", _NS) is not None
        and refs[0].find("ds:DigestMethod", _NS).get("Algorithm") == SM3_URI
    )
    if not expected:
        raise SignatureInvalid("the signature does not follow the SM2/SM3 profile")
    key_name = (sig.findtext("ds:KeyInfo/ds:KeyName", namespaces=_NS) or "").strip()
    candidates = [pk for pk in trust.public_keys if hashlib.sha256(pk).hexdigest()[:16] == key_name]
    if not candidates:
        raise SignatureInvalid(f"key {key_name or '?'} is not pinned for {trust.name}")
    try:
        value = base64.b64decode("".join((sig.findtext("ds:SignatureValue", namespaces=_NS) or "").split()), validate=True)
        digest = base64.b64decode((refs[0].findtext("ds:DigestValue", namespaces=_NS) or "").strip(), validate=True)
    except ValueError:
        raise SignatureInvalid("SignatureValue or DigestValue is not base64") from None
    if not sm2_verify(candidates[0], _c14n(si), value, trust.uid):
        raise SignatureInvalid("SM2 signature verification failed")
    # enveloped-signature transform: drop the Signature element but keep the text after it
    tail, previous = sig.tail, sig.getprevious()
    root.remove(sig)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            root.text = (root.text or "") + tail
    signed = _c14n(root)
    if sm3(signed) != digest:
        raise SignatureInvalid("SM3 digest mismatch")
    return etree.fromstring(signed)
