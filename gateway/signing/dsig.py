"""XML-DSig: the one profile, the trust of a counterparty, and verification (signing is
`gateway.signing.signer`; docs/architecture.md "one way to do each thing").

Profile (the only one the gateway writes or accepts):

- enveloped signature, `ds:Signature` the last child of the document element;
- exactly one `ds:Reference`, `URI=""` (the whole document), transforms
  `enveloped-signature` then exclusive C14N 1.0; SignedInfo canonicalised with exclusive C14N;
- digest SHA-256; signature RSA-SHA256 (PKCS#1 v1.5) or ECDSA-P256-SHA256;
- `ds:KeyInfo` = `ds:KeyName` (our key id) + `ds:X509Data` with the signing certificate.

`URI=""` and no `Id` attributes mean there is nothing for `xmlsec1 --id-attr` to resolve and
nothing for a wrapping attack to re-point: `xmlsec1 --verify --pubkey-cert-pem cert.pem
bulletin.xml` (or `--trusted-pem ca.pem`) verifies every bulletin and receipt as is.

Verification pins trust per counterparty (`Trust`: pinned certificates and/or CA anchors of
ONE partner, never a system store), refuses anything but the profile above before any
cryptography runs (one Signature, one Reference, expected algorithms: signature wrapping
defences), and returns only what was signed (`VerifiedXml.root`, parsed back from the
canonical bytes that were digested).

signxml does the verifying. A subclass cuts its defensive copies where they buy nothing
(see docs/notes.md): the verifier works on the tree it parsed itself (through
`gateway.xmlsafe`) instead of serialising and re-parsing it three times. A profile document
signed by a pinned certificate is verified in the profile's few steps with signxml's own
primitives (`gateway.signing.profile_verify`; a corpus test holds both to the same verdicts).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.util import X509CertChainVerifier

from gateway import xmlsafe
from gateway.signing import profile_verify, xsd
from gateway.signing.keys import SigningKey, key_id_for
from gateway.signing.profile_verify import DS, ENVELOPED, EXC_C14N, SHA256

SIGNATURE_METHODS = {"rsa-sha256": SignatureMethod.RSA_SHA256, "ecdsa-p256-sha256": SignatureMethod.ECDSA_SHA256}
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_NS = {"ds": DS}


def ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


class SignatureInvalid(Exception):
    """The document is not signed as the profile requires, or not by the pinned party."""


@dataclass(frozen=True)
class ReferenceDigest:
    """One signed reference: what a receipt echoes back (AS4 NonRepudiationInformation)."""

    uri: str
    digest_method: str
    digest_value: str  # base64, as in ds:DigestValue


@dataclass(frozen=True)
class Trust:
    """Who may sign for ONE counterparty: pinned certificates and/or CA anchors.

    A pinned certificate matches when the document's signing certificate is that very
    certificate (or the document names its key id and carries no certificate). CA anchors
    accept a certificate chain in the document that ends at one of them. Nothing else is
    trusted: there is no fallback to a system store.
    """

    name: str
    pinned: tuple[x509.Certificate, ...] = ()
    anchors: tuple[x509.Certificate, ...] = ()
    suites: frozenset[str] = frozenset(SIGNATURE_METHODS)

    def __post_init__(self) -> None:
        if not self.pinned and not self.anchors:
            raise ValueError(f"trust for {self.name!r} pins no certificate and names no CA anchor")
        unknown = set(self.suites) - set(SIGNATURE_METHODS)
        if unknown:
            raise ValueError(f"unknown signature suites {sorted(unknown)}")

    @classmethod
    def from_pem(
        cls, name: str, pinned: bytes | Iterable[bytes] = (), anchors: bytes | Iterable[bytes] = (), **kw
    ) -> Trust:
        def load(pems: bytes | Iterable[bytes]) -> tuple[x509.Certificate, ...]:
            blobs = [pems] if isinstance(pems, bytes) else list(pems)
            return tuple(c for b in blobs for c in x509.load_pem_x509_certificates(b))

        return cls(name, load(pinned), load(anchors), **kw)

    @classmethod
    def for_keys(cls, name: str, keys: Iterable[SigningKey]) -> Trust:
        """Trust our own keys (re-verifying what we signed; tests)."""
        return cls(name, tuple(k.certificate for k in keys))

    @cached_property
    def signature_methods(self) -> frozenset[SignatureMethod]:
        return frozenset(SIGNATURE_METHODS[s] for s in self.suites)

    @cached_property
    def signature_algorithms(self) -> frozenset[str]:
        """The accepted methods as ds:SignatureMethod Algorithm URIs."""
        return frozenset(m.value for m in self.signature_methods)

    @cached_property
    def pinned_by_der(self) -> dict[bytes, x509.Certificate]:
        return {c.public_bytes(serialization.Encoding.DER): c for c in self.pinned}


@dataclass(frozen=True)
class VerifiedXml:
    """What a verification proved: the signed content, who signed it, and the digests."""

    root: etree._Element  # the signed document (without its Signature), from the canonical bytes
    signed_bytes: bytes  # the canonical bytes that were digested
    signer: x509.Certificate
    key_id: str
    signature_method: str
    references: tuple[ReferenceDigest, ...]

    @property
    def signer_subject(self) -> str:
        return self.signer.subject.rfc4514_string()


# --- verification -------------------------------------------------------------------


class _AnchorChainVerifier(X509CertChainVerifier):
    def __init__(self, anchors: tuple[x509.Certificate, ...], **kw) -> None:
        super().__init__(**kw)
        self._anchors = anchors

    @property
    def store(self):  # signxml reads a CA file per verification; ours are in memory
        return x509.verification.Store(list(self._anchors))


class _Verifier(XMLVerifier):
    """signxml's verifier on a tree we parsed and own (see the module docstring)."""

    def __init__(self, owned_root: etree._Element, anchors: tuple[x509.Certificate, ...] = ()) -> None:
        super().__init__()
        self._owned = owned_root
        self._anchors = anchors

    def _tostring(self, xml_node, **kwargs):
        # signxml copies by `_fromstring(_tostring(node))`: the document root (once per call
        # and once per reference) and the Signature. Within our own tree the copy is not
        # needed: the profile has one reference, and the tree is discarded afterwards.
        if not kwargs and isinstance(xml_node, etree._Element) and xml_node.getroottree().getroot() is self._owned:
            return xml_node
        return super()._tostring(xml_node, **kwargs)

    def _fromstring(self, xml_string, **kwargs):
        if isinstance(xml_string, etree._Element):
            return xml_string
        return super()._fromstring(xml_string, **kwargs)

    def get_root(self, data):
        if data is self._owned:
            return data
        return super().get_root(data)

    def get_cert_chain_verifier(self, ca_pem_file, ee_policy, ca_policy):
        return _AnchorChainVerifier(
            self._anchors,
            verification_time=self._get_cert_verification_time(),
            ee_policy=ee_policy,
            ca_policy=ca_policy,
        )


def _fail(message: str) -> SignatureInvalid:
    return SignatureInvalid(message)


_SIGNATURE, _SIGNED_INFO = ds("Signature"), ds("SignedInfo")
_C14N_METHOD, _SIGNATURE_METHOD, _REFERENCE = ds("CanonicalizationMethod"), ds("SignatureMethod"), ds("Reference")
_TRANSFORM = f"{ds('Transforms')}/{ds('Transform')}"
_DIGEST_METHOD, _OBJECT, _KEY_NAME = ds("DigestMethod"), ds("Object"), f"{ds('KeyInfo')}/{ds('KeyName')}"
_X509_CERTIFICATE = f"{ds('KeyInfo')}/{ds('X509Data')}/{ds('X509Certificate')}"


def _check_profile(root: etree._Element, trust: Trust) -> tuple[etree._Element, list[bytes], str | None]:
    """Refuse anything but the one profile, before any cryptography (signature wrapping)."""
    signatures = list(root.iter(_SIGNATURE))
    if len(signatures) != 1:
        raise _fail(f"expected exactly one ds:Signature, found {len(signatures)}")
    sig = signatures[0]
    if sig.getparent() is not root:
        raise _fail("the ds:Signature must be a child of the document element")
    last = [e for e in root if isinstance(e.tag, str)][-1]
    if last is not sig:
        raise _fail("the ds:Signature must be the last element of the document")
    signed_info = sig.find(_SIGNED_INFO)
    if signed_info is None:
        raise _fail("ds:SignedInfo is missing")
    c14n = signed_info.find(_C14N_METHOD)
    if c14n is None or c14n.get("Algorithm") != EXC_C14N or len(c14n):
        raise _fail("SignedInfo must be canonicalised with exclusive C14N 1.0 (no InclusiveNamespaces)")
    method = signed_info.find(_SIGNATURE_METHOD)
    if method is None or method.get("Algorithm") not in trust.signature_algorithms:
        got = None if method is None else method.get("Algorithm")
        raise _fail(f"signature method {got} is not accepted for {trust.name}")
    refs = signed_info.findall(_REFERENCE)
    if len(refs) != 1 or refs[0].get("URI") != "":
        raise _fail(f"expected exactly one ds:Reference with URI=\"\", found {len(refs)}")
    transform_elements = refs[0].findall(_TRANSFORM)
    transforms = [t.get("Algorithm") for t in transform_elements]
    if transforms not in ([ENVELOPED, EXC_C14N], [ENVELOPED]):
        raise _fail(f"unexpected transforms {transforms}")
    if any(len(t) for t in transform_elements):
        raise _fail("transform parameters are not part of the profile")
    digest = refs[0].find(_DIGEST_METHOD)
    if digest is None or digest.get("Algorithm") != SHA256:
        raise _fail("the reference digest must be SHA-256")
    if sig.find(_OBJECT) is not None:
        raise _fail("ds:Object is not part of the profile")
    try:
        certs = [base64.b64decode("".join((c.text or "").split()), validate=True) for c in sig.iterfind(_X509_CERTIFICATE)]
    except ValueError as exc:
        raise _fail(f"cannot read the certificate in KeyInfo: {exc}") from None
    return sig, certs, sig.findtext(_KEY_NAME)


def _pinned_signer(trust: Trust, certs: list[bytes], key_name: str | None) -> x509.Certificate | None:
    if certs:
        return trust.pinned_by_der.get(certs[0])
    if key_name:
        for pinned in trust.pinned:
            if key_id_for(pinned) == key_name.strip():
                return pinned
    return None


def verify_xml(
    data: bytes | etree._Element,
    trust: Trust,
    *,
    now: dt.datetime | None = None,
    schema_name: str | None = None,
    expected_root: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> VerifiedXml:
    """Verify a document signed in the profile by the counterparty `trust` describes.

    `data` is bytes from outside (parsed with `gateway.xmlsafe`) or an element the caller
    parsed with it and hands over (it is consumed). `schema_name` (a file in schemas/xsd/), if
    given, validates the whole document, ds:Signature included, first. `now` is the time at which the
    certificate must be valid (default: the current time).
    """
    try:
        root = xmlsafe.parse(data, max_bytes) if isinstance(data, bytes) else data
    except (xmlsafe.UnsafeXml, xmlsafe.MalformedXml) as exc:
        raise _fail(f"not acceptable XML: {exc}") from None
    if expected_root is not None and root.tag != expected_root:
        raise _fail(f"expected a {expected_root} document, got {root.tag}")
    if schema_name is not None:
        problems = xsd.validate(schema_name, root)
        if problems:
            raise _fail(f"the document does not match {schema_name}: {problems[0]}")
    _sig, certs, key_name = _check_profile(root, trust)

    pinned = _pinned_signer(trust, certs, key_name)
    if pinned is None and not (trust.anchors and certs):
        raise _fail(f"the signing certificate is not one pinned for {trust.name}")
    if pinned is not None and profile_verify.applies(_sig):
        try:
            if schema_name is None:  # as signxml does: the Signature against the XML-DSig schema
                _Verifier(root).validate_schema(_sig)
            fast = profile_verify.verify(root, _sig, pinned, now)
        except (SignXMLException, etree.DocumentInvalid) as exc:
            raise _fail(f"{type(exc).__name__}: {exc}") from None
        return _verified(pinned, fast.signed_xml, fast.signed_data, fast.signed_info)
    config = SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=trust.signature_methods,
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        verification_time=now,
    )
    verifier = _Verifier(root, trust.anchors)
    try:
        result = verifier.verify(
            root,
            x509_cert=pinned,  # None: the chain in KeyInfo must end at one of trust.anchors
            expect_config=config,
            validate_schema=schema_name is None,
        )
    except (SignXMLException, etree.DocumentInvalid) as exc:
        raise _fail(f"{type(exc).__name__}: {exc}") from None
    signer = pinned if pinned is not None else x509.load_der_x509_certificate(certs[0])
    if result.signed_xml is None:
        raise _fail("the signed content is not XML")
    return _verified(signer, result.signed_xml, result.signed_data, result.signature_xml.find("ds:SignedInfo", _NS))


def _verified(signer: x509.Certificate, signed_xml: etree._Element, signed_data: bytes,
              signed_info: etree._Element) -> VerifiedXml:
    references = tuple(
        ReferenceDigest(
            uri=r.get("URI", ""),
            digest_method=r.find("ds:DigestMethod", _NS).get("Algorithm"),
            digest_value=(r.findtext("ds:DigestValue", namespaces=_NS) or "").strip(),
        )
        for r in signed_info.findall("ds:Reference", _NS)
    )
    method = signed_info.find("ds:SignatureMethod", _NS).get("Algorithm")
    return VerifiedXml(
        root=signed_xml,
        signed_bytes=signed_data,
        signer=signer,
        key_id=key_id_for(signer),
        signature_method=method,
        references=references,
    )


def reference_digests(signed: bytes | etree._Element) -> tuple[ReferenceDigest, ...]:
    """The reference digests of a document WE signed (for receipts to be checked against)."""
    root = xmlsafe.parse(signed) if isinstance(signed, bytes) else signed
    sig = root.find("ds:Signature", _NS)
    if sig is None:
        raise ValueError("the document is not signed")
    return tuple(
        ReferenceDigest(
            uri=r.get("URI", ""),
            digest_method=r.find("ds:DigestMethod", _NS).get("Algorithm"),
            digest_value=(r.findtext("ds:DigestValue", namespaces=_NS) or "").strip(),
        )
        for r in sig.findall("ds:SignedInfo/ds:Reference", _NS)
    )


@dataclass(frozen=True)
class SignerInfo:
    """Unverified description of a signature (for `bulletin show`; never for decisions)."""

    key_name: str | None
    subject: str | None
    signature_method: str | None
    certificates: list[x509.Certificate] = field(default_factory=list)


def describe_signature(root: etree._Element) -> SignerInfo | None:
    sig = root.find("ds:Signature", _NS)
    if sig is None:
        return None
    certs = []
    for text in sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
        with contextlib.suppress(ValueError):
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((text.text or "").split()))))
    method = sig.find("ds:SignedInfo/ds:SignatureMethod", _NS)
    return SignerInfo(
        key_name=sig.findtext("ds:KeyInfo/ds:KeyName", namespaces=_NS),
        subject=certs[0].subject.rfc4514_string() if certs else None,
        signature_method=None if method is None else method.get("Algorithm"),
        certificates=certs,
    )
