"""What a watchlist's sector sees of a stored standing, and what changed between two (pure).

The view is built with the same functions as `GET /v1/credit/{uscc}` (`gateway.access.credit`),
so a notice never says anything the credit answer would not: the standing (clear or
restricted), the lists in force with their state and period, the joint measures for the
sector only, and the ratings.
"""

from __future__ import annotations

from typing import Any

from gateway.access.credit import measures_for_sector, ratings_view

UNKNOWN = "unknown"


def sector_view(body: dict[str, Any] | None, restricted: bool | None, sector: str) -> dict[str, Any] | None:
    """The watch view of a stored standing body (None: the subject was never decided)."""
    if body is None:
        return None
    lists = sorted(
        ({"list_kind": ls["list_kind"], "state": ls["state"], "expires_on": ls.get("expires_on"),
          "title_zh": ls.get("title_zh"), "entry": ls.get("entry")} for ls in body.get("lists", ())),
        key=lambda x: (x["list_kind"], x["entry"] or ""))
    measures = sorted(({"list_kind": m["list_kind"], "receiver": m["receiver"], "text_zh": m["text_zh"],
                        "legal_basis": m["legal_basis"]} for m in measures_for_sector(body, sector)),
                      key=lambda m: (m["list_kind"], m["text_zh"]))
    ratings = ratings_view(body) if "ratings" in body else None
    rating = None
    if ratings is not None:
        grade = (ratings.get("integrity_grade") or {}).get("grade")
        rating = {"stars": ratings.get("stars"), "integrity_grade": grade, "supervision": ratings.get("supervision")}
    reasons = [{"list_kind": ls["list_kind"], "case": r.get("case"), "text_zh": r.get("text_zh"), "source": r.get("source")}
               for ls in body.get("lists", ()) for r in ls.get("reasons") or ()]
    standing = "restricted" if (restricted if restricted is not None else body.get("standing") == "restricted") else "clear"
    return {"standing": standing, "lists": lists, "measures": measures, "rating": rating, "reasons": reasons}


def _list_key(ls: dict[str, Any]) -> tuple[str, str]:
    return ls["list_kind"], ls["state"]


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """What changed between two views, one code per change ([] when nothing the sector sees did):

    standing:clear→restricted · listed:<list> · removed:<list> · state:<list> <a>→<b> ·
    period:<list> <a>→<b> · measure_added:<text> · measure_lifted:<text> · rating:<field> <a>→<b>
    """
    if after is None:
        return []
    empty = {"standing": UNKNOWN, "lists": [], "measures": [], "rating": None}
    first = before is None
    was = before or empty
    out: list[str] = []
    if was["standing"] != after["standing"] and not (first and after["standing"] == "clear"):
        out.append(f"standing:{was['standing']}→{after['standing']}")
    old = {ls["list_kind"]: ls for ls in was["lists"]}
    new = {ls["list_kind"]: ls for ls in after["lists"]}
    for kind in sorted(new.keys() - old.keys()):
        out.append(f"listed:{kind}")
    for kind in sorted(old.keys() - new.keys()):
        out.append(f"removed:{kind}")
    for kind in sorted(old.keys() & new.keys()):
        a, b = old[kind], new[kind]
        if a["state"] != b["state"]:
            out.append(f"state:{kind} {a['state']}→{b['state']}")
        if a.get("expires_on") != b.get("expires_on"):
            out.append(f"period:{kind} {a.get('expires_on')}→{b.get('expires_on')}")
    old_m = {(m["list_kind"], m["text_zh"]) for m in was["measures"]}
    new_m = {(m["list_kind"], m["text_zh"]) for m in after["measures"]}
    out.extend(f"measure_added:{text}" for _, text in sorted(new_m - old_m))
    out.extend(f"measure_lifted:{text}" for _, text in sorted(old_m - new_m))
    if not first and was["rating"] != after["rating"]:
        for field in ("stars", "integrity_grade", "supervision"):
            a = (was["rating"] or {}).get(field)
            b = (after["rating"] or {}).get(field)
            if a != b:
                out.append(f"rating:{field} {a}→{b}")
    return out


def reasons_for(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """The reasons behind what the change added (all of the view's reasons when it was removed)."""
    had = {(r["list_kind"], r["case"]) for r in (before or {}).get("reasons", ())}
    added = [r for r in after["reasons"] if (r["list_kind"], r["case"]) not in had]
    return added or list(after["reasons"])


def list_line(ls: dict[str, Any]) -> str:
    until = f" until {ls['expires_on']}" if ls.get("expires_on") else ""
    return f"{ls['list_kind']} {ls['state']}{until}"


def rating_line(rating: dict[str, Any] | None) -> str | None:
    if not rating:
        return None
    parts = [f"{k}={v}" for k, v in rating.items() if v is not None]
    return ", ".join(parts) or None
