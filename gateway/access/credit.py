"""What a sector sees of a subject's stored standing (按需最小化): `credit_view(...)`.

The standing is the change-feed consumer's (`standings`); nothing here decides anything.

- Measures: only those whose receiver is the caller's sector (a bank sees finance measures,
  a land office the land-bidding restriction and its legal basis); agencies and operators
  see every receiver's.
- Reasons: partners get the case, the sentence and its legal source; agencies and operators
  also the record ids and the profile entry behind it.
- Natural persons' ID numbers: shown in full to agencies only; masked (first 6, last 4)
  for everyone else, including any that a reason's text might quote.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.access.keys import Principal
from gateway.domain.identifiers import idcard

SECTOR_RECEIVERS: dict[str, frozenset[str] | None] = {
    "finance": frozenset({"finance"}),
    "insurance": frozenset({"insurance"}),
    "land": frozenset({"land"}),
    "securities": frozenset({"securities"}),
    "approval": frozenset({"approval"}),
    "trading": frozenset({"trading"}),
    "platform": frozenset({"platform"}),
    "agency": None,  # every receiver
    "operator": None,
}
FULL_DETAIL = frozenset({"agency", "operator"})
_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}[01][0-9][0-3][0-9]{4}[0-9Xx](?![0-9])")


def reveals_id_numbers(principal: Principal) -> bool:
    return principal.sector == "agency"


def scrub(text: Any, reveal: bool) -> Any:
    if reveal or not isinstance(text, str):
        return text
    return _ID_NUMBER.sub(lambda m: idcard.mask(m.group(0)), text)


def receivers_for(sector: str) -> frozenset[str] | None:
    return SECTOR_RECEIVERS.get(sector, frozenset())


def measure_view(m: dict[str, Any]) -> dict[str, Any]:
    return {"list_kind": m["list_kind"], "receiver": m["receiver"], "text_zh": m["text_zh"], "text_en": m["text_en"],
            "legal_basis": m["basis"], "rules": m["rules"], "source": m["source"]}


def measures_for_sector(body: dict[str, Any], sector: str) -> list[dict[str, Any]]:
    wanted = receivers_for(sector)
    return [measure_view(m) for m in body.get("measures", ()) if wanted is None or m["receiver"] in wanted]


def reason_view(r: dict[str, Any], full: bool, reveal: bool) -> dict[str, Any]:
    out = {"case": r.get("case"), "text_zh": scrub(r.get("text_zh"), reveal), "text_en": scrub(r.get("text_en"), reveal),
           "rules": r.get("rules"), "source": r.get("source")}
    if full:
        out["record_ids"] = list(r.get("record_ids") or ())
        out["entry"] = r.get("entry")
    return out


def list_view(ls: dict[str, Any], full: bool, reveal: bool) -> dict[str, Any]:
    out = {
        "list_kind": ls["list_kind"], "title_zh": ls["title_zh"], "title_en": ls["title_en"], "listed": True,
        "state": ls["state"], "starts_on": ls["starts_on"], "expires_on": ls["expires_on"], "entry": ls["entry"],
        "cases": list(ls["cases"]), "reasons": [reason_view(r, full, reveal) for r in ls.get("reasons") or ()],
    }
    if full:
        out["record_ids"] = list(ls["record_ids"])
    return out


def persons_view(body: dict[str, Any], principal: Principal) -> list[dict[str, Any]]:
    """Responsible persons named in the records behind a listing (docs/policy.md §1), one per
    ID number; the number is masked for everyone but the agency that provided the record
    (`001` §三(一)6)."""
    out = []
    for p in body.get("persons", ()):
        own = reveals_id_numbers(principal) and p.get("agency") is not None and p.get("agency") == principal.agency_code
        number = p["id_number"]
        out.append({"role": p["role"], "roles": list(p.get("roles") or (p["role"],)), "key": p.get("key"),
                    "name": p["name"], "id_number": number if own else (idcard.mask(number) if number else None),
                    "record_id": p["record_id"], "record_ids": list(p.get("record_ids") or (p["record_id"],))})
    return out


def ratings_view(body: dict[str, Any]) -> dict[str, Any]:
    r = body["ratings"]
    grade = r["integrity_grade"]
    return {"stars": r["stars"],
            "integrity_grade": {"grade": grade["grade"], "base_grade": grade["base_grade"], "action": grade["action"]},
            "supervision": r["supervision"], "high_rating": r["high_rating"],
            "incentive_eligible": r["incentive_eligible"]}


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def credit_view(subject: Any, standing: Any, principal: Principal, *, pending: bool) -> dict[str, Any]:
    """The answer of `GET /v1/credit/{uscc}`: the stored standing (a `standings` row) of
    `subject` as `principal`'s sector may see it; `pending` when a newer change is being decided."""
    body = standing.body
    full = principal.sector in FULL_DETAIL
    reveal = reveals_id_numbers(principal)
    return {
        "subject": subject.key,
        "uscc": subject.uscc,
        "name": subject.name,
        "category": subject.category,
        "region": subject.region,
        "display_id": subject.display_id,
        "as_of": _iso(standing.as_of),
        "profile": standing.profile,
        "list_source": "entries",
        "sector": principal.sector,
        "standing": "restricted" if standing.restricted else "clear",
        "standing_version": standing.version,
        "decided_at": _iso(standing.checked_at),
        "pending_change": pending,
        "lists": [list_view(ls, full, reveal) for ls in body.get("lists", ())],
        "measures": measures_for_sector(body, principal.sector),
        "ratings": ratings_view(body),
        "persons": persons_view(body, principal),
        "last_change": _iso(subject.changed_at),
    }
