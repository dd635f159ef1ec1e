"""Agency isolation (谁提供、谁负责): what an agency key may read of records and subjects.

An agency key reads the records its own agency provided, and a minimised view of the
subjects of those records: the subject file holds only its own records, the decisions name
only its own record ids (another agency's ids are withheld), and a subject it never reported
is unknown to it (404, as if it did not exist, so a key cannot probe for other agencies'
subjects). Operators and the other sectors are not affected here (their scopes decide).
"""

from __future__ import annotations

import re
from typing import Any

_RECORD_UID = re.compile(r"^rec_[0-9a-f]{32}$")
WITHHELD = "withheld"


def agency_of_caller() -> str | None:
    """The agency code when the request's credential is an agency key, else None."""
    from connexion.context import context

    try:
        principal = context["token_info"]["principal"]
    except (KeyError, TypeError, LookupError):
        return None
    return principal.agency_code if getattr(principal, "sector", None) == "agency" else None


def record_uids_in(value: Any) -> set[str]:
    """Every record id anywhere in `value` (JSON)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and _RECORD_UID.match(v):
            found.add(v)

    walk(value)
    return found


def minimised(body: Any) -> Any:
    """`body` as the caller may see it: for an agency key, without other agencies' record ids."""
    agency = agency_of_caller()
    if agency is None:
        return body
    uids = record_uids_in(body)
    if not uids:
        return body
    from gateway.api.deps import services
    from gateway.intake import repository as intake_repo

    with services().db.read() as conn:
        own = intake_repo.agency_owned_uids(conn, uids, agency)
    return without_foreign_records(body, own)


def without_foreign_records(value: Any, own: set[str]) -> Any:
    """`value` (JSON) with every record id not in `own` taken out of lists, withheld elsewhere."""
    if isinstance(value, dict):
        return {k: without_foreign_records(v, own) for k, v in value.items()}
    if isinstance(value, list):
        return [without_foreign_records(v, own) for v in value
                if not (isinstance(v, str) and _RECORD_UID.match(v) and v not in own)]
    if isinstance(value, str) and _RECORD_UID.match(value) and value not in own:
        return WITHHELD
    return value
