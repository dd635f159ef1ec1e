"""Verify any signed document the gateway issues or receives, against pinned certificates:
a bulletin, a receipt, an eligibility report, or an evidence zip (`gateway verify FILE`).

The kind is read from the document itself (a zip, or the XML root element); each is checked
with `dsig.verify_xml` in the one signature profile, with its own XSD, against the trust the
caller pins: the gateway's certificates for what the gateway signs (bulletins, eligibility
reports), the destination's for receipts. Nothing in the file is trusted because the file
carries it: an evidence zip's own certificates are never used to verify it.

An evidence zip passes when its bulletin verifies against the gateway trust, every
`receipt-N.xml` verifies against its destination's trust and echoes the bulletin's digests,
and it holds no other XML document.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway import xmlsafe
from gateway.signing import xsd
from gateway.signing.dsig import SignatureInvalid, Trust, VerifiedXml, verify_xml
from gateway.signing.receipt import ReceiptInvalid, ReceiptMismatch, verify_receipt

BULLETIN_NS = "urn:safety-credit:bulletin:1"
RECEIPT_NS = "urn:safety-credit:receipt:1"
REPORT_NS = "urn:safety-credit:eligibility-report:1"
KINDS = {f"{{{BULLETIN_NS}}}Bulletin": "bulletin", f"{{{RECEIPT_NS}}}Receipt": "receipt",
         f"{{{REPORT_NS}}}EligibilityReport": "eligibility-report"}
SCHEMAS = {"bulletin": xsd.BULLETIN, "receipt": xsd.RECEIPT, "eligibility-report": "eligibility-report.xsd"}
ZIP_MAGIC = b"PK\x03\x04"
MAX_ZIP_MEMBER = 64 * 1024 * 1024


class NotVerified(Exception):
    """The document did not verify; the message says why."""


@dataclass
class Result:
    kind: str
    lines: list[str] = field(default_factory=list)  # what was verified, for the operator


# receipt trust by the receipt's Receiver (the destination's name); None: nothing pinned for it
ReceiptTrust = Callable[[str | None], Trust | None]


def kind_of(data: bytes) -> str:
    if data.startswith(ZIP_MAGIC):
        return "evidence"
    try:
        root = xmlsafe.parse(data)
    except (xmlsafe.UnsafeXml, xmlsafe.MalformedXml) as exc:
        raise NotVerified(f"not acceptable XML: {exc}") from None
    kind = KINDS.get(root.tag)
    if kind is None:
        raise NotVerified(f"not a document the gateway signs or receives (root {root.tag})")
    return kind


def _text(v: VerifiedXml, ns: str, path: str) -> str | None:
    return v.root.findtext("/".join(f"{{{ns}}}{p}" for p in path.split("/")))


def _verify(data: bytes, kind: str, trust: Trust | None, now: dt.datetime | None) -> VerifiedXml:
    if trust is None:
        raise NotVerified(f"no pinned certificate for this {kind}")
    try:
        return verify_xml(data, trust, now=now, schema_name=SCHEMAS[kind],
                          expected_root=next(t for t, k in KINDS.items() if k == kind))
    except SignatureInvalid as exc:
        raise NotVerified(f"{kind}: {exc}") from None


def _receiver(data: bytes) -> str | None:
    try:
        return xmlsafe.parse(data).findtext(f"{{{RECEIPT_NS}}}Receiver")
    except (xmlsafe.UnsafeXml, xmlsafe.MalformedXml):
        return None


def _describe(kind: str, v: VerifiedXml) -> list[str]:
    lines = [f"signer:    {v.signer.subject.rfc4514_string()}", f"key id:    {v.key_id}"]
    if kind == "bulletin":
        items = v.root.find(f"{{{BULLETIN_NS}}}Items")
        lines.insert(0, f"bulletin:  {_text(v, BULLETIN_NS, 'Header/BulletinId')} (sequence "
                        f"{_text(v, BULLETIN_NS, 'Header/Sequence')}, {_text(v, BULLETIN_NS, 'Header/Kind')})")
        lines.append(f"items:     {len(items) if items is not None else 0}")
    elif kind == "receipt":
        lines.insert(0, f"receipt:   {_text(v, RECEIPT_NS, 'ReceiptId')} for bulletin "
                        f"{_text(v, RECEIPT_NS, 'BulletinId')}, delivery {_text(v, RECEIPT_NS, 'DeliveryId')} "
                        f"(receiver {_text(v, RECEIPT_NS, 'Receiver')})")
        statuses = [o.get("status") for o in v.root.iter(f"{{{RECEIPT_NS}}}Outcome")]
        lines.append("outcomes:  " + ", ".join(f"{s} {statuses.count(s)}" for s in dict.fromkeys(statuses)))
    else:
        lines.insert(0, f"report:    {_text(v, REPORT_NS, 'Header/ReportId')} ({_text(v, REPORT_NS, 'Header/Purpose')},"
                        f" issued {_text(v, REPORT_NS, 'Header/IssuedAt')})")
        for b in v.root.iter(f"{{{REPORT_NS}}}Bidder"):
            lines.append(f"  bidder {b.get('index')}: {b.findtext(f'{{{REPORT_NS}}}Code')} {b.get('status')}")
    return lines


def verify_document(data: bytes, *, gateway_trust: Trust | None, receipt_trust: ReceiptTrust,
                    now: dt.datetime | None = None, bulletin: bytes | None = None) -> Result:
    """Verify `data` (any kind); raises NotVerified with the reason. `bulletin`: for a lone
    receipt, the bulletin it must acknowledge (its digest echo is then checked too)."""
    kind = kind_of(data)
    if kind == "evidence":
        return _verify_zip(data, gateway_trust, receipt_trust, now)
    trust = receipt_trust(_receiver(data)) if kind == "receipt" else gateway_trust
    verified = _verify(data, kind, trust, now)
    result = Result(kind, _describe(kind, verified))
    if kind == "receipt" and bulletin is not None:
        signed = _verify(bulletin, "bulletin", gateway_trust, now)
        _check_echo(data, trust, signed, "the receipt", now)
        result.lines.append("echo:      matches the bulletin's signature digest")
    return result


def _check_echo(data: bytes, trust: Trust, bulletin: VerifiedXml, name: str, now: dt.datetime | None) -> None:
    bulletin_id = bulletin.root.findtext(f"{{{BULLETIN_NS}}}Header/{{{BULLETIN_NS}}}BulletinId")
    try:
        verify_receipt(data, trust, bulletin.references, expected_bulletin_id=bulletin_id, now=now)
    except ReceiptMismatch as exc:
        raise NotVerified(f"{name} does not acknowledge this bulletin: {exc}") from None
    except ReceiptInvalid as exc:
        raise NotVerified(f"{name}: {exc}") from None


def _verify_zip(data: bytes, gateway_trust: Trust | None, receipt_trust: ReceiptTrust,
                now: dt.datetime | None) -> Result:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = {i.filename: i for i in zf.infolist()}
    except zipfile.BadZipFile as exc:
        raise NotVerified(f"not a readable zip: {exc}") from None

    def read(name: str) -> bytes:
        info = members[name]
        if info.file_size > MAX_ZIP_MEMBER:
            raise NotVerified(f"{name}: too large ({info.file_size} bytes)")
        return zf.read(info)

    if "bulletin.xml" not in members:
        raise NotVerified("evidence zip without bulletin.xml")
    extra = sorted(n for n in members if n.endswith(".xml") and n != "bulletin.xml"
                   and not (n.startswith("receipt-") and "/" not in n))
    if extra:
        raise NotVerified(f"evidence zip holds documents that are not part of the evidence: {', '.join(extra)}")
    result = Result("evidence")
    bulletin = _verify(read("bulletin.xml"), "bulletin", gateway_trust, now)
    result.lines += [f"bulletin.xml  {line}" for line in _describe("bulletin", bulletin)]
    receipts = sorted((n for n in members if n.startswith("receipt-") and n.endswith(".xml")),
                      key=lambda n: (len(n), n))
    for name in receipts:
        raw = read(name)
        receiver = _receiver(raw)
        trust = receipt_trust(receiver)
        if trust is None:
            raise NotVerified(f"{name}: no pinned certificate for receipts from {receiver!r} (give --receipt-cert)")
        verified = _verify(raw, "receipt", trust, now)
        _check_echo(raw, trust, bulletin, name, now)
        result.lines += [f"{name}  {line}" for line in _describe("receipt", verified)]
    result.lines.append(f"receipts:  {len(receipts)}, each echoing the bulletin's digest")
    return result
