"""What a sector sees of a subject's standing (按需最小化): `credit_view(standing, principal)`.

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
from gateway.access.standing import ListStanding, Standing
from gateway.domain.identifiers import idcard
from gateway.domain.policy.output import jsonable

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


def measure_view(m: Any) -> dict[str, Any]:
    return {"list_kind": m.list_kind, "receiver": m.receiver, "text_zh": m.text_zh, "text_en": m.text_en,
            "legal_basis": m.basis, "rules": m.rules, "source": m.source}


def measures_for_sector(standing: Standing, sector: str) -> list[dict[str, Any]]:
    wanted = receivers_for(sector)
    return [measure_view(m) for m in standing.measures if wanted is None or m.receiver in wanted]


def reason_view(reason: Any, full: bool, reveal: bool) -> dict[str, Any]:
    r = jsonable(reason) if not isinstance(reason, dict) else dict(reason)
    out = {"case": r.get("case"), "text_zh": scrub(r.get("text_zh"), reveal), "text_en": scrub(r.get("text_en"), reveal),
           "rules": r.get("rules"), "source": r.get("source")}
    if full:
        out["record_ids"] = list(r.get("record_ids") or ())
        out["entry"] = r.get("entry")
    return out


def list_view(ls: ListStanding, full: bool, reveal: bool) -> dict[str, Any]:
    out = {
        "list_kind": ls.list_kind, "title_zh": ls.title_zh, "title_en": ls.title_en, "listed": ls.listed,
        "state": ls.state, "starts_on": _iso(ls.starts_on), "expires_on": _iso(ls.expires_on), "entry": ls.entry,
        "cases": list(ls.cases), "reasons": [reason_view(r, full, reveal) for r in ls.reasons],
    }
    if full:
        out["record_ids"] = list(ls.record_ids)
    return out


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def persons_view(standing: Standing, reveal: bool) -> list[dict[str, Any]]:
    """Responsible persons named in the records behind a listing (RULES.md §1)."""
    behind = {rid for ls in standing.lists if ls.listed for rid in ls.record_ids}
    out = []
    for rec in standing.records:
        if rec.id not in behind:
            continue
        number = rec.data.get("person_id_number") or rec.data.get("CF_XDR_ZJHM")
        name = rec.data.get("person_name")
        if not (number or name):
            continue
        out.append({"role": rec.data.get("person_role", "unit"), "name": name,
                    "id_number": number if reveal else (idcard.mask(number) if number else None), "record_id": rec.id})
    return out


def ratings_view(standing: Standing) -> dict[str, Any]:
    d = standing.decisions
    latest = d.stars.latest
    return {
        "stars": None if latest is None else {"year": latest.year, "stars": latest.stars, "score": str(latest.score),
                                              "key_monitoring": latest.key_monitoring},
        "integrity_grade": {"grade": d.integrity_grade.grade, "base_grade": d.integrity_grade.base_grade,
                            "action": d.integrity_grade.action},
        "supervision": {"tier": d.supervision.tier, "sampling_zh": d.supervision.sampling_zh,
                        "sampling_en": d.supervision.sampling_en},
        "high_rating": d.high_rating,
        "incentive_eligible": d.incentive.eligible,
    }


def credit_view(standing: Standing, principal: Principal) -> dict[str, Any]:
    s = standing.subject
    full = principal.sector in FULL_DETAIL
    reveal = reveals_id_numbers(principal)
    return {
        "subject": s.key,
        "uscc": s.uscc,
        "name": s.name,
        "category": s.category,
        "region": s.region,
        "display_id": s.display_id,
        "as_of": standing.as_of.isoformat(),
        "profile": standing.profile,
        "list_source": standing.source,
        "sector": principal.sector,
        "standing": "restricted" if standing.punished else "clear",
        "lists": [list_view(ls, full, reveal) for ls in standing.lists if ls.listed or full],
        "measures": measures_for_sector(standing, principal.sector),
        "ratings": ratings_view(standing),
        "persons": persons_view(standing, reveal),
        "last_change": _iso(s.changed_at),
    }
