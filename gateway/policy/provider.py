"""谁提供、谁负责 (`001` §三(四)1(5), 2(5); docs/policy.md §6): an objection to a listing is
answered by the agency that provided its information — its own key — or by an operator acting
for that agency, the step recording `acting_for`. Another agency's key, or an operator naming
no providing agency, is refused (403 `not-the-providing-agency`).

The providing agencies of an entry are the agencies whose records it rests on
(`record_uids`). Agency keys take no other step of the procedure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gateway.domain.policy.lifecycle import Action
from gateway.errors import GatewayError
from gateway.policy.repository import providing_agencies

OBJECTION_ANSWERS = frozenset({Action.REJECT_OBJECTION, Action.CORRECT_LISTING, Action.ANNUL_LISTING})


class NotTheProvidingAgency(GatewayError):
    status, slug, title = 403, "not-the-providing-agency", "Only the providing agency answers this"


@dataclass(frozen=True)
class Acting:
    """Who takes a step: the credential (`actor`), its agency (an agency key), whether it is
    an operator, and the agency an operator says it acts for."""

    actor: str
    agency_code: str | None = None
    operator: bool = True
    acting_for: str | None = None


def check_acting(conn: Connection, row: Any, action: str, who: Acting) -> str | None:
    """The agency to record as `acting_for` on the step (None when the step needs none);
    NotTheProvidingAgency when `who` may not take it."""
    if action not in OBJECTION_ANSWERS:
        if not who.operator:
            raise NotTheProvidingAgency(f"an agency key only answers objections (谁提供、谁负责), not {action}",
                                        entry=row.uid, action=action)
        if who.acting_for:
            raise NotTheProvidingAgency("acting_for is recorded only on an objection answer", entry=row.uid,
                                        action=action)
        return None
    providers = providing_agencies(conn, row)
    if not who.operator:
        if who.agency_code not in providers:
            raise NotTheProvidingAgency(
                f"the objection is answered by the agency that provided the information ({', '.join(providers)}), "
                f"not {who.agency_code}", entry=row.uid, providing_agencies=providers)
        return who.agency_code
    if who.acting_for not in providers:
        raise NotTheProvidingAgency(
            "an operator answers an objection only acting for the providing agency: give acting_for "
            f"({', '.join(providers) or 'none recorded'})", entry=row.uid, providing_agencies=providers,
            acting_for=who.acting_for)
    return who.acting_for
