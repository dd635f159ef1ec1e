"""Receipts: a destination's signed answer to one delivery, proving what it received.

A receipt names the bulletin and the delivery, gives one outcome per item (accepted,
rejected with a code and message, duplicate) and echoes the `ds:Reference` digests of the
bulletin's signature (AS4-style non-repudiation of receipt). The gateway accepts a receipt
only if it is signed by the destination's pinned certificate AND the echoed digests are
exactly the digests of the bulletin it sent: a receipt for other content proves nothing.

Destinations (and the simulators in `adapters/`) build receipts with `build_receipt`; the
delivery worker checks them with `verify_receipt`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography import x509
from lxml import etree

from gateway.signing import xsd
from gateway.signing.dsig import DS, ReferenceDigest, SignatureInvalid, Trust, verify_xml
from gateway.signing.keys import SigningKey
from gateway.signing.signer import sign_xml

NS = "urn:safety-credit:receipt:1"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _ds(tag: str) -> str:
    return f"{{{DS}}}{tag}"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class ItemOutcome:
    item_id: str
    status: Outcome | str
    code: str | None = None  # for rejected items: the destination's stable reason code
    message: str | None = None


@dataclass(frozen=True)
class VerifiedReceipt:
    receipt_id: str
    bulletin_id: str
    delivery_id: str
    receiver: str
    received: dt.datetime
    outcomes: tuple[ItemOutcome, ...]
    digests: tuple[ReferenceDigest, ...]
    signer: x509.Certificate
    key_id: str

    @property
    def all_accepted(self) -> bool:
        return all(o.status in (Outcome.ACCEPTED, Outcome.DUPLICATE) for o in self.outcomes)


class ReceiptInvalid(SignatureInvalid):
    """The receipt is not signed by the pinned destination key, or does not match its schema."""


class ReceiptMismatch(ReceiptInvalid):
    """A validly signed receipt that acknowledges something other than what we sent."""


def build_receipt(
    bulletin: Any,
    outcomes: Sequence[ItemOutcome],
    *,
    key: SigningKey,
    delivery_id: str,
    receiver: str,
    bulletin_id: str | None = None,
    receipt_id: str | None = None,
    received: dt.datetime | None = None,
) -> bytes:
    """Build and sign a receipt for a verified bulletin (`VerifiedBulletin`, or its reference digests)."""
    if hasattr(bulletin, "digests"):
        digests, bulletin_id = bulletin.digests, bulletin_id or bulletin.header.bulletin_id
    else:
        digests = tuple(bulletin)
    if not bulletin_id:
        raise ValueError("bulletin_id is required when only digests are given")
    if not digests:
        raise ValueError("a receipt must echo at least one reference digest")
    received = received or dt.datetime.now(dt.UTC)
    root = etree.Element(q("Receipt"), {"version": "1"}, nsmap={"r": NS})
    for tag, value in (
        ("ReceiptId", receipt_id or f"r-{uuid.uuid4()}"),
        ("BulletinId", bulletin_id),
        ("DeliveryId", delivery_id),
        ("Receiver", receiver),
        ("Received", received.isoformat()),
    ):
        etree.SubElement(root, q(tag)).text = value
    holder = etree.SubElement(root, q("Outcomes"))
    for o in outcomes:
        el = etree.SubElement(holder, q("Outcome"), itemId=o.item_id, status=str(Outcome(o.status)))
        if o.code:
            etree.SubElement(el, q("Code")).text = o.code
        if o.message:
            etree.SubElement(el, q("Message")).text = o.message
    nri = etree.SubElement(root, q("NonRepudiationInformation"))
    for d in digests:
        part = etree.SubElement(nri, q("MessagePartNRInformation"))
        ref = etree.SubElement(part, _ds("Reference"), URI=d.uri, nsmap={"ds": DS})
        transforms = etree.SubElement(ref, _ds("Transforms"))
        etree.SubElement(transforms, _ds("Transform"), Algorithm=ENVELOPED)
        etree.SubElement(transforms, _ds("Transform"), Algorithm=EXC_C14N)
        etree.SubElement(ref, _ds("DigestMethod"), Algorithm=d.digest_method)
        etree.SubElement(ref, _ds("DigestValue")).text = d.digest_value
    problems = xsd.validate(xsd.RECEIPT, root)
    if problems:
        raise ValueError("receipt does not match receipt.xsd: " + "; ".join(problems[:5]))
    return sign_xml(root, key)


def _echoed(root: etree._Element) -> tuple[ReferenceDigest, ...]:
    out = []
    for ref in root.iterfind(f"{q('NonRepudiationInformation')}/{q('MessagePartNRInformation')}/{_ds('Reference')}"):
        out.append(
            ReferenceDigest(
                uri=ref.get("URI", ""),
                digest_method=ref.find(_ds("DigestMethod")).get("Algorithm"),
                digest_value=(ref.findtext(_ds("DigestValue")) or "").strip(),
            )
        )
    return tuple(out)


def verify_receipt(
    data: bytes,
    trust: Trust,
    expected_bulletin_digests: Sequence[ReferenceDigest],
    *,
    expected_bulletin_id: str | None = None,
    expected_delivery_id: str | None = None,
    now: dt.datetime | None = None,
) -> VerifiedReceipt:
    """Verify the receipt's signature against the destination's trust, then its digest echo."""
    try:
        verified = verify_xml(data, trust, now=now, schema_name=xsd.RECEIPT, expected_root=q("Receipt"))
    except ReceiptInvalid:
        raise
    except SignatureInvalid as exc:
        raise ReceiptInvalid(str(exc)) from None
    root = verified.root
    echoed = _echoed(root)
    if set(echoed) != set(expected_bulletin_digests) or len(echoed) != len(expected_bulletin_digests):
        raise ReceiptMismatch("the receipt's digest echo does not match the bulletin that was sent")
    bulletin_id, delivery_id = root.findtext(q("BulletinId")), root.findtext(q("DeliveryId"))
    if expected_bulletin_id is not None and bulletin_id != expected_bulletin_id:
        raise ReceiptMismatch(f"receipt for bulletin {bulletin_id}, expected {expected_bulletin_id}")
    if expected_delivery_id is not None and delivery_id != expected_delivery_id:
        raise ReceiptMismatch(f"receipt for delivery {delivery_id}, expected {expected_delivery_id}")
    outcomes = tuple(
        ItemOutcome(
            item_id=o.get("itemId"),
            status=Outcome(o.get("status")),
            code=o.findtext(q("Code")),
            message=o.findtext(q("Message")),
        )
        for o in root.iterfind(f"{q('Outcomes')}/{q('Outcome')}")
    )
    return VerifiedReceipt(
        receipt_id=root.findtext(q("ReceiptId")),
        bulletin_id=bulletin_id,
        delivery_id=delivery_id,
        receiver=root.findtext(q("Receiver")),
        received=dt.datetime.fromisoformat(root.findtext(q("Received")).replace("Z", "+00:00")),
        outcomes=outcomes,
        digests=echoed,
        signer=verified.signer,
        key_id=verified.key_id,
    )
