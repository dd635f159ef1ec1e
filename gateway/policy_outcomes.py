"""What the policy use cases answer: their errors (each one a problem type of the API) and
their results (`RecomputeResult`, `TransitionResult`, `SweepResult`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.domain.policy.lifecycle import Transition
from gateway.policy_views import api_action

SYSTEM = "system"  # the actor of what the gateway does by itself


# --- errors (each one a problem type of the API) --------------------------------------------


class PolicyError(Exception):
    status = 400
    slug = "policy-error"
    title = "Policy error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class EntryNotFound(PolicyError):
    status, slug, title = 404, "list-entry-not-found", "No such list entry"


class SubjectNotFound(PolicyError):
    status, slug, title = 404, "subject-not-found", "Unknown subject"


class RemovalWindowNotOpen(PolicyError):
    """Removal is applied for within the window before expiry (§4) or after 12 months (§10)."""

    status, slug, title = 409, "removal-window-not-open", "The removal window is not open"


class NotEligible(PolicyError):
    """An incentive application from a subject that does not meet all six conditions (§5)."""

    status, slug, title = 422, "incentive-not-eligible", "Not eligible for the incentive list"


class IncentiveEntryOpen(PolicyError):
    status, slug, title = 409, "incentive-entry-open", "An incentive entry is already open"


# --- results ----------------------------------------------------------------------------------


@dataclass
class RecomputeResult:
    subjects: int = 0
    decisions_changed: int = 0
    proposed: list[str] = field(default_factory=list)  # uids of the entries proposed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TransitionResult:
    entry: dict[str, Any]
    transition: Transition
    created: list[dict[str, Any]] = field(default_factory=list)  # entries made by its instructions

    def to_dict(self) -> dict[str, Any]:
        t = self.transition.to_dict()
        t["action"] = api_action(t["action"])
        return {"entry": self.entry, "transition": t, "created": self.created}


@dataclass
class SweepResult:
    as_of: dt.date
    expired: list[str] = field(default_factory=list)
    removal_windows_opened: list[str] = field(default_factory=list)
    reapply_windows_opened: list[str] = field(default_factory=list)
    overdue_publications: int = 0
    overdue_sample: list[str] = field(default_factory=list)  # the first overdue record uids
    key_monitoring: list[str] = field(default_factory=list)  # latest rated year without a star
    rectification_ordered: list[str] = field(default_factory=list)  # consecutive star-less years

    @property
    def changes(self) -> int:
        return len(self.expired) + len(self.removal_windows_opened) + len(self.reapply_windows_opened)

    def counts(self) -> dict[str, int]:
        return {
            "expired": len(self.expired),
            "removal_windows_opened": len(self.removal_windows_opened),
            "reapply_windows_opened": len(self.reapply_windows_opened),
            "overdue_publications": self.overdue_publications,
            "key_monitoring": len(self.key_monitoring),
            "rectification_ordered": len(self.rectification_ordered),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "counts": self.counts(), **{
            k: v for k, v in asdict(self).items() if k != "as_of"}}


def digest(body: dict[str, Any]) -> str:
    """The decision's content digest: the body without `as_of`, which moves every day."""
    content = {k: v for k, v in body.items() if k != "as_of"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
