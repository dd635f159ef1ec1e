"""Lifecycle of list entries (RULES.md §5, §6, `001` §三(四)): pure state machines.

Joint punishment and blacklist entries (失信联合惩戒 / 黑名单)::

    proposed --notify--> notified (告知书; the subject may argue)
    notified --confirm--> confirmed (确认书)      notified --drop--> dropped (argument accepted)
    confirmed --publish--> published
    published --object--> objection (异议, 谁提供、谁负责)
    objection --uphold--> upheld                 objection --correct--> corrected
    published | upheld | corrected --request_removal--> removal_requested
    removal_requested --remove--> removed
    published | upheld | corrected | removal_requested --expire--> expired
    any state that is not final --revoke--> revoked

Incentive entries (守信联合激励)::

    applied --review--> reviewed --publish--> published --expire--> expired
    published --revoke--> revoked; revoking for fraud instructs listing the unit at once on
    the profile's fraud list (the blacklist in the municipal profile, `001` §三(四)2(3)).

Persistence, who acted and when, lives elsewhere; these functions only say what may follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.reasons import Reason


class EntryState(StrEnum):
    PROPOSED = "proposed"
    NOTIFIED = "notified"
    CONFIRMED = "confirmed"
    DROPPED = "dropped"
    PUBLISHED = "published"
    OBJECTION = "objection"
    UPHELD = "upheld"
    CORRECTED = "corrected"
    REMOVAL_REQUESTED = "removal_requested"
    REMOVED = "removed"
    EXPIRED = "expired"
    REVOKED = "revoked"


class IncentiveState(StrEnum):
    APPLIED = "applied"
    REVIEWED = "reviewed"
    PUBLISHED = "published"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Action(StrEnum):
    NOTIFY = "notify"
    CONFIRM = "confirm"
    DROP = "drop"
    PUBLISH = "publish"
    OBJECT = "object"
    UPHOLD = "uphold"
    CORRECT = "correct"
    REQUEST_REMOVAL = "request_removal"
    REMOVE = "remove"
    EXPIRE = "expire"
    REVOKE = "revoke"
    REVIEW = "review"


E, S, A = EntryState, IncentiveState, Action

_ENTRY_FINAL = frozenset({E.DROPPED, E.REMOVED, E.EXPIRED, E.REVOKED})
_ENTRY: dict[EntryState, dict[Action, EntryState]] = {
    E.PROPOSED: {A.NOTIFY: E.NOTIFIED},
    E.NOTIFIED: {A.CONFIRM: E.CONFIRMED, A.DROP: E.DROPPED},
    E.CONFIRMED: {A.PUBLISH: E.PUBLISHED},
    E.PUBLISHED: {A.OBJECT: E.OBJECTION, A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.OBJECTION: {A.UPHOLD: E.UPHELD, A.CORRECT: E.CORRECTED},
    E.UPHELD: {A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.CORRECTED: {A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.REMOVAL_REQUESTED: {A.REMOVE: E.REMOVED, A.EXPIRE: E.EXPIRED},
}
for _state in E:
    if _state not in _ENTRY_FINAL:
        _ENTRY.setdefault(_state, {})[A.REVOKE] = E.REVOKED
    else:
        _ENTRY.setdefault(_state, {})

_INCENTIVE: dict[IncentiveState, dict[Action, IncentiveState]] = {
    S.APPLIED: {A.REVIEW: S.REVIEWED},
    S.REVIEWED: {A.PUBLISH: S.PUBLISHED},
    S.PUBLISHED: {A.EXPIRE: S.EXPIRED, A.REVOKE: S.REVOKED},
    S.EXPIRED: {},
    S.REVOKED: {},
}

LIST_KINDS = ("joint_punishment", "blacklist", "incentive")


class IllegalTransition(ValueError):
    """`action` is not allowed in `state`; `allowed` lists what is."""

    def __init__(self, state: str, action: str, allowed: list[str]) -> None:
        self.state = str(state)
        self.action = str(action)
        self.allowed = allowed
        super().__init__(
            f"cannot {self.action!r} an entry in state {self.state!r}; allowed: {', '.join(allowed) or 'none (final state)'}"
        )


@dataclass(frozen=True, slots=True)
class Instruction(Output):
    """Something the caller must do next because of a transition."""

    action: str  # "list"
    list_kind: str
    immediately: bool
    reason: Reason


@dataclass(frozen=True, slots=True)
class Transition(Output):
    from_state: str
    action: str
    state: str
    instructions: tuple[Instruction, ...] = ()


def parse_state(list_kind: str, state: str) -> EntryState | IncentiveState:
    """The typed state of `list_kind` named `state`; ValueError if there is none."""
    if list_kind == "incentive":
        return IncentiveState(state)
    if list_kind in LIST_KINDS:
        return EntryState(state)
    raise ValueError(f"unknown list kind {list_kind!r}; one of {', '.join(LIST_KINDS)}")


def _table(state: EntryState | IncentiveState) -> dict:  # type: ignore[type-arg]
    return _INCENTIVE if isinstance(state, IncentiveState) else _ENTRY


def allowed_actions(list_kind: str, state: str) -> list[str]:
    """The actions allowed for an entry of `list_kind` in `state` (empty for a final state)."""
    typed = parse_state(list_kind, str(state))
    return [a.value for a in _table(typed)[typed]]


def is_final(list_kind: str, state: str) -> bool:
    return not allowed_actions(list_kind, state)


def transition(
    state: EntryState | IncentiveState,
    action: Action | str,
    *,
    fraud: bool = False,
    profile: Profile | None = None,
) -> Transition:
    """The state after `action`; raises IllegalTransition (with the allowed actions) if not allowed.

    Pass an `EntryState` for joint punishment / blacklist entries and an `IncentiveState` for
    incentive entries (`parse_state` turns stored strings into these). Revoking an incentive
    entry with `fraud=True` adds the instruction to list the unit at once on the profile's
    fraud list (`incentive.on_fraud.list`; the blacklist when no profile is given).
    """
    table = _table(state)
    moves = table[state]
    try:
        act = Action(action)
        new = moves[act]
    except (ValueError, KeyError):
        raise IllegalTransition(state.value, str(action), [a.value for a in moves]) from None
    instructions: tuple[Instruction, ...] = ()
    if fraud and isinstance(state, IncentiveState) and act is A.REVOKE:
        rule = profile.incentive.on_fraud if profile else None
        instructions = (
            Instruction(
                "list",
                rule.list if rule else "blacklist",
                True,
                Reason(
                    "incentive_fraud",
                    (),
                    "incentive.on_fraud",
                    rule.rules if rule else "§5",
                    rule.source if rule else "001 §三(四)2(3)",
                    (rule.text_zh if rule else "")
                    or "以虚假信息等不当手段取得联合激励资格，移出激励名单并列入失信名单",
                    (rule.text_en if rule else "")
                    or "incentive obtained by fraud: removed from the incentive list and listed at once",
                ),
            ),
        )
    return Transition(state.value, act.value, new.value, instructions)
