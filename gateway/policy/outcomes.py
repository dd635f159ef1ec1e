"""What the policy use cases answer: their errors (each one a problem type of the API) and
their results (`TransitionResult`, `SweepResult`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.domain.policy.lifecycle import IllegalTransition, Transition
from gateway.errors import GatewayError, SubjectNotFound  # noqa: F401 - re-exported
from gateway.policy.views import api_action

SYSTEM = "system"  # the actor of what the gateway does by itself


# --- errors (each one a problem type of the API) --------------------------------------------


class PolicyError(GatewayError):
    status, slug, title = 400, "policy-error", "Policy error"


class TransitionNotAllowed(PolicyError):
    """The action may not follow in the entry's state; `allowed` lists what may."""

    status, slug, title = 409, "illegal-transition", "Transition not allowed"

    @classmethod
    def from_domain(cls, exc: IllegalTransition, entry: str, action: str) -> TransitionNotAllowed:
        allowed = [api_action(a) for a in exc.allowed]
        return cls(f"cannot {action!r} an entry in state {exc.state!r}; allowed: {', '.join(allowed) or 'none (final state)'}",
                   entry=entry, state=exc.state, action=action, allowed=allowed)


class ChangeNotDecided(PolicyError):
    """The subject's latest change could not be decided (it failed, or is quarantined)."""

    status, slug, title = 409, "change-not-decided", "The subject's latest change is not decided yet"


class EntryNotFound(PolicyError):
    status, slug, title = 404, "list-entry-not-found", "No such list entry"


class RemovalWindowNotOpen(PolicyError):
    """Removal is applied for within the window before expiry (§4) or after 12 months (§10)."""

    status, slug, title = 409, "removal-window-not-open", "The removal window is not open"


class RemovalWindowClosed(PolicyError):
    """Removal is never applied for on or after the expiry day (`001` §三(四)1(4)): the entry expires."""

    status, slug, title = 409, "removal-window-closed", "The removal window has closed"


class ArgumentPeriodOpen(PolicyError):
    """Confirmation waits until the argument period has ended (`001` §三(四)1(2)), unless the
    subject's waiver or the outcome of its argument is recorded (`argument`)."""

    status, slug, title = 409, "argument-period-open", "The subject's argument period has not ended"


class HappenedOnOutOfBounds(PolicyError):
    """The day a step happened (`happened_on`) is in the future, or before the step it follows
    (rule 3); the problem names the bound (`latest` or `earliest`)."""

    status, slug, title = 422, "happened-on-out-of-bounds", "The day the step happened is out of bounds"


class AsOfInFuture(PolicyError):
    """Deciding as of a day after today (a rehearsal moves the clock instead: GATEWAY_CLOCK_FIXED)."""

    status, slug, title = 422, "as-of-in-future", "Cannot decide as of a future day"


class ApprovalsPending(PolicyError):
    """The step waits for each level's approval (rule 6); `pending` names the levels still to approve."""

    status, slug, title = 409, "approvals-pending", "Waiting for the approval of each level"


class ApprovalOutOfOrder(PolicyError):
    """Levels approve in the profile's order, each with its own credential (`expected`, `levels`)."""

    status, slug, title = 409, "approval-out-of-order", "Not this level's approval"


class ApprovalNotExpected(PolicyError):
    """The entry's state (or its profile) waits for no approval."""

    status, slug, title = 409, "approval-not-expected", "No approval is expected"


class EvidenceRequired(PolicyError):
    """Refusing an incentive application needs the evidence it did not pass on (`001` §三(四)2(2))."""

    status, slug, title = 422, "evidence-required", "The evidence is required"


class NotEligible(PolicyError):
    """An incentive application from a subject that does not meet all six conditions (§5)."""

    status, slug, title = 422, "incentive-not-eligible", "Not eligible for the incentive list"


class IncentiveEntryOpen(PolicyError):
    status, slug, title = 409, "incentive-entry-open", "An incentive entry is already open"


# --- results ----------------------------------------------------------------------------------


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
    basis_withdrawn: list[str] = field(default_factory=list)
    subjects_decided: int = 0  # subjects whose next change day had come
    overdue_publications: int = 0
    overdue_sample: list[str] = field(default_factory=list)  # the first overdue record uids
    key_monitoring: list[str] = field(default_factory=list)  # latest rated year without a star
    rectification_ordered: list[str] = field(default_factory=list)  # consecutive star-less years

    @property
    def changes(self) -> int:
        return (len(self.expired) + len(self.removal_windows_opened) + len(self.reapply_windows_opened)
                + len(self.basis_withdrawn))

    def counts(self) -> dict[str, int]:
        return {
            "expired": len(self.expired),
            "removal_windows_opened": len(self.removal_windows_opened),
            "reapply_windows_opened": len(self.reapply_windows_opened),
            "basis_withdrawn": len(self.basis_withdrawn),
            "subjects_decided": self.subjects_decided,
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
