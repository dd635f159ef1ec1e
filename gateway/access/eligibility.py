"""Bidder eligibility (投标人资格核查): who may take part in a land auction, an issuance, a
procurement or a project approval, with a signed report that verifies offline.

A bidder is `restricted` when it is on a punishment list (joint punishment or blacklist)
whose measures (docs/policy.md §9, the profile's measure table) name the purpose's receiver —
land for a land auction, securities for an issuance, trading for procurement, approval for
a project approval; `eligible` when it is known and not restricted (measures that apply
without barring it, such as strict review of a key-monitoring unit, come as notes);
`unknown` when the gateway holds nothing on the code; `invalid` when the code is not a
valid USCC. The report (`schemas/xsd/eligibility-report.xsd`) is signed with the gateway's
active key and stored byte for byte.

A sector checks only for the purposes its own measures serve (a bank cannot run a land
auction check and so learn land measures); agencies and operators may check any.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import Connection

from gateway.access.keys import Principal
from gateway.access.repository import store_report
from gateway.clock import china_today
from gateway.domain.identifiers import IdentifierError, uscc
from gateway.domain.policy.lifecycle import PUNISHMENT_LISTS
from gateway.errors import GatewayError
from gateway.intake.repository import find_subjects_by_key
from gateway.policy.repository import standings_for_receiver
from gateway.signing import xsd
from gateway.signing.signer import sign_xml
from gateway.xmlsafe import NOT_XML_CHAR

NS = "urn:safety-credit:eligibility-report:1"
SCHEMA = "eligibility-report.xsd"
STATUSES = ("eligible", "restricted", "unknown", "invalid", "pending")


@dataclass(frozen=True)
class Purpose:
    receiver: str
    sectors: frozenset[str]


PURPOSES: dict[str, Purpose] = {
    "land_auction": Purpose("land", frozenset({"land"})),
    "bond_issuance": Purpose("securities", frozenset({"securities", "finance"})),
    "share_issuance": Purpose("securities", frozenset({"securities"})),
    "procurement": Purpose("trading", frozenset({"trading"})),
    "project_approval": Purpose("approval", frozenset({"approval"})),
}
ANY_PURPOSE = frozenset({"agency", "operator"})


class PurposeUnknown(GatewayError):
    status, slug, title = 400, "purpose-unknown", "Unknown purpose"


class PurposeNotPermitted(GatewayError):
    status, slug, title = 403, "purpose-not-permitted", "Not permitted for this sector"


def may_check(principal: Principal, purpose: str) -> bool:
    return principal.sector in ANY_PURPOSE or principal.sector in PURPOSES[purpose].sectors


@dataclass
class CheckResult:
    report_id: str
    body: dict[str, Any]
    xml: bytes


def _bidder(index: int, code: str, subject: Any, standing: tuple[bool, Any] | None, problem: IdentifierError | None,
            receiver: str) -> dict[str, Any]:
    out: dict[str, Any] = {"index": index, "code": code}
    if problem is not None:
        out["status"] = "invalid"
        out["problem"] = {"reason": problem.code, "message": str(problem),
                          **({"position": problem.position} if getattr(problem, "position", None) else {}),
                          **({"suggestion": problem.suggestion} if getattr(problem, "suggestion", None) else {})}
        return out
    if subject is None:
        out["status"] = "unknown"
        return out
    out["name"] = subject.name
    if standing is None:  # records arrived and are being decided: no answer yet, never a guess
        out["status"] = "pending"
        return out
    restricted, body = standing
    if body is None:  # no measure of this standing names the receiver
        out["status"] = "eligible"
        out["restrictions"] = []
        return out
    restrictions, notes = [], []
    listed = {ls["list_kind"]: ls for ls in body.get("lists", ()) if ls["list_kind"] in PUNISHMENT_LISTS}
    for m in body.get("measures", ()):
        if m["receiver"] != receiver:
            continue
        measure = {"measure_zh": m["text_zh"], "measure_en": m["text_en"], "legal_basis": m["basis"],
                   "source": m["source"]}
        ls = listed.get(m["list_kind"])
        if ls is None:
            notes.append({"list_kind": m["list_kind"], **measure})
            continue
        restrictions.append({
            "list_kind": ls["list_kind"], "title_zh": ls["title_zh"], "entry": ls["entry"], "state": ls["state"],
            "starts_on": ls["starts_on"], "expires_on": ls["expires_on"], "cases": list(ls["cases"]), **measure,
        })
    out["status"] = "restricted" if restrictions else "eligible"
    out["restrictions"] = restrictions
    if notes:
        out["notes"] = notes
    return out


def evaluate(conn: Connection, purpose: str, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Each bidder's status, read from the stored standings (two queries for the whole list)."""
    receiver = PURPOSES[purpose].receiver
    # stored keys were validated at intake: a code found as it stands needs no checking; only
    # the others are validated (invalid, or normalised and looked up once more)
    found = find_subjects_by_key(conn, {c.strip().upper() for c in codes}, brief=True)
    parsed: list[tuple[str, str | None, IdentifierError | None]] = []
    for code in codes:
        plain = code.strip().upper()
        if plain in found:
            parsed.append((code, plain, None))
            continue
        try:
            parsed.append((code, uscc.validate(code), None))
        except IdentifierError as exc:
            parsed.append((code, None, exc))
    found.update(find_subjects_by_key(conn, {n for _, n, _ in parsed if n and n not in found}, brief=True))
    stored = standings_for_receiver(conn, [s.id for s in found.values()], receiver)
    out = []
    for i, (code, key, err) in enumerate(parsed, 1):
        subject = found.get(key) if key else None
        out.append(_bidder(i, code, subject, stored.get(subject.id) if subject is not None else None, err, receiver))
    return out


def check(services: Any, principal: Principal, purpose: str, codes: Sequence[str], reference: str | None,
          key: Any) -> CheckResult:
    """Evaluate, build and sign the report, store it; the JSON body and the signed bytes."""
    if purpose not in PURPOSES:
        raise PurposeUnknown(f"purpose {purpose!r}; one of {', '.join(PURPOSES)}")
    if not may_check(principal, purpose):
        raise PurposeNotPermitted(f"sector {principal.sector} may not check eligibility for {purpose}",
                                  sector=principal.sector, purpose=purpose)
    now = services.clock.now()
    report_id = "elg_" + uuid.uuid4().hex
    with services.db.read() as conn:
        bidders = evaluate(conn, purpose, codes)
    counts = {s: 0 for s in STATUSES}
    for b in bidders:
        counts[b["status"]] += 1
    body = {
        "report_id": report_id, "issued_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "as_of": china_today(services.clock).isoformat(), "purpose": purpose, "receiver": PURPOSES[purpose].receiver,
        "reference": reference, "profile": services.profile.name, "list_source": "entries", "counts": counts,
        "bidders": bidders, "report": f"/v1/eligibility-reports/{report_id}",
    }
    root = build_report(body, services.settings.issuer_uscc, principal)
    problems = xsd.validate(SCHEMA, root)
    if problems:  # our own document: a bug, never the caller's fault
        raise RuntimeError(f"eligibility report does not match {SCHEMA}: {problems[0]}")
    signed = sign_xml(root, key)
    with services.db.write() as conn:
        store_report(conn, report_id=report_id, partner_id=principal.partner_id, key_id=principal.key_id,
                     purpose=purpose, reference=reference, counts=counts, xml=signed, now=now)
    body["signed_by"] = key.key_id
    return CheckResult(report_id, body, signed)


def _xml_text(value: Any) -> str:
    """A bidder code as typed may hold characters XML cannot carry, and the signed report must
    still be built: they are shown as U+FFFD."""
    return NOT_XML_CHAR.sub("\ufffd", str(value))


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _xml_text(text)
    return el


def build_report(body: dict[str, Any], issuer: str, principal: Principal) -> etree._Element:
    root = etree.Element(f"{{{NS}}}EligibilityReport", {"version": "1"}, nsmap={None: NS})
    h = _sub(root, "Header")
    _sub(h, "ReportId", body["report_id"])
    _sub(h, "IssuedAt", body["issued_at"])
    _sub(h, "AsOf", body["as_of"])
    _sub(h, "Issuer", issuer)
    _sub(h, "Profile", body["profile"])
    _sub(h, "ListSource", body["list_source"])
    req = _sub(h, "Requester")
    if principal.organisation:
        _sub(req, "Organisation", principal.organisation)
    _sub(req, "Sector", principal.sector)
    _sub(req, "KeyId", principal.key_id)
    _sub(h, "Purpose", body["purpose"])
    _sub(h, "Receiver", body["receiver"])
    if body.get("reference"):
        _sub(h, "Reference", body["reference"])
    _sub(h, "Counts", **body["counts"])
    bidders = _sub(root, "Bidders")
    for b in body["bidders"]:
        el = _sub(bidders, "Bidder", index=b["index"], status=b["status"])
        _sub(el, "Code", b["code"])
        if b.get("name"):
            _sub(el, "Name", b["name"])
        for r in b.get("restrictions", ()):
            rel = _sub(el, "Restriction", list=r["list_kind"])
            _sub(rel, "ListTitle", r["title_zh"])
            if r.get("entry"):
                _sub(rel, "Entry", r["entry"])
            _sub(rel, "State", r["state"])
            if r.get("starts_on"):
                _sub(rel, "StartsOn", r["starts_on"])
            if r.get("expires_on"):
                _sub(rel, "ExpiresOn", r["expires_on"])
            for c in r.get("cases", ()):
                _sub(rel, "Case", c)
            _sub(rel, "Measure", r["measure_zh"])
            _sub(rel, "LegalBasis", r["legal_basis"])
            _sub(rel, "Source", r["source"])
        for n in b.get("notes", ()):
            nel = _sub(el, "Note", list=n["list_kind"])
            _sub(nel, "Measure", n["measure_zh"])
            _sub(nel, "LegalBasis", n["legal_basis"])
            _sub(nel, "Source", n["source"])
        if b.get("problem"):
            _sub(el, "Problem", b["problem"]["message"], reason=b["problem"]["reason"])
    return root
