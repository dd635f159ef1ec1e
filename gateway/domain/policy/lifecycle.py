"""Lifecycle of list entries (docs/policy.md §5, §6, `001` §三(四)): the one list-state vocabulary.

Joint punishment and blacklist entries (失信联合惩戒 / 黑名单)::

    proposed --notify--> notified (告知书; the subject may argue)
    notified --confirm--> confirmed (确认书)        notified --drop--> dropped (argument accepted)
    confirmed --publish--> published
    published --object--> objection (异议, 谁提供、谁负责)
    objection --reject_objection--> objection_rejected   异议不成立: the listing is maintained
    objection --correct_listing--> corrected             异议成立·更正: in force, corrected content
    objection --annul_listing--> annulled                异议成立·撤销: the listing ends
    published | objection_rejected | corrected --request_removal--> removal_requested
    removal_requested --remove--> removed
    any state in force --expire--> expired
    any state that is not final --revoke--> revoked
    any state that is not final --withdraw_basis--> basis_withdrawn   (the gateway only: every
        record behind the entry was withdrawn, or what remains no longer meets its case)

Incentive entries (守信联合激励)::

    applied --review--> reviewed --publish--> published --expire--> expired
    published --revoke--> revoked; revoking for fraud instructs listing the unit at once on
    the profile's fraud list (the blacklist in the municipal profile, `001` §三(四)2(3)).
    applied | reviewed --refuse--> refusal_notified (不予通过: evidence, notice, argument, `001` §三(四)2(2))
    refusal_notified --confirm--> refused      refusal_notified --accept_argument--> applied
    published --notify_removal--> removal_notified --remove--> removed (a condition failed,
        `001` §三(四)2(3): notice, then the removal published, without waiting for expiry)

Level by level (逐级审核, `001` §三(四)1(4), 2(2)): a removal (removal_requested), an incentive
review (reviewed) and an incentive removal (removal_notified) wait for `approve` by each level
the profile names (`procedure`); the last level's approval carries the step out.

What every other part of the gateway asks of a state is derived here from the transition
tables, never restated: `in_force` (the listing applies: published and not ended —
published, under objection, objection rejected, corrected, removal requested; never before
publication, never after it ends), `final` (nothing may follow), `public` (only reached by
publishing: the listing was announced), `procedure` (open, before publication).

`uphold` and `correct`, the names of the first release, are accepted as aliases of
`reject_objection` and `correct_listing` for one release (`ACTION_ALIASES`).

Persistence, who acted and when, lives elsewhere; these functions only say what may follow.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    OBJECTION_REJECTED = "objection_rejected"
    CORRECTED = "corrected"
    ANNULLED = "annulled"
    REMOVAL_REQUESTED = "removal_requested"
    REMOVED = "removed"
    EXPIRED = "expired"
    REVOKED = "revoked"
    BASIS_WITHDRAWN = "basis_withdrawn"


class IncentiveState(StrEnum):
    APPLIED = "applied"
    REVIEWED = "reviewed"
    PUBLISHED = "published"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REFUSAL_NOTIFIED = "refusal_notified"  # 不予通过: the evidence given, the unit told, it may argue
    REFUSED = "refused"
    REMOVAL_NOTIFIED = "removal_notified"  # 移出告知: a condition failed; in force until the removal
    REMOVED = "removed"


class Action(StrEnum):
    NOTIFY = "notify"
    CONFIRM = "confirm"
    DROP = "drop"
    PUBLISH = "publish"
    OBJECT = "object"
    REJECT_OBJECTION = "reject_objection"
    CORRECT_LISTING = "correct_listing"
    ANNUL_LISTING = "annul_listing"
    REQUEST_REMOVAL = "request_removal"
    REMOVE = "remove"
    EXPIRE = "expire"
    REVOKE = "revoke"
    REVIEW = "review"
    WITHDRAW_BASIS = "withdraw_basis"
    APPROVE = "approve"  # one level's approval (逐级审核); the last level's carries the step out
    REFUSE = "refuse"  # an incentive application does not pass (with the evidence)
    ACCEPT_ARGUMENT = "accept_argument"  # the unit's argument against the refusal is accepted
    NOTIFY_REMOVAL = "notify_removal"  # a published incentive whose condition failed: notice of removal


# the first release's names, accepted for one more release (docs/operator-guide.md)
ACTION_ALIASES: Mapping[str, Action] = {"uphold": Action.REJECT_OBJECTION, "correct": Action.CORRECT_LISTING}
# actions only the gateway takes (an operator cannot claim a basis was withdrawn)
SYSTEM_ACTIONS = frozenset({Action.WITHDRAW_BASIS})

E, S, A = EntryState, IncentiveState, Action

_ENTRY: dict[EntryState, dict[Action, EntryState]] = {
    E.PROPOSED: {A.NOTIFY: E.NOTIFIED},
    E.NOTIFIED: {A.CONFIRM: E.CONFIRMED, A.DROP: E.DROPPED},
    E.CONFIRMED: {A.PUBLISH: E.PUBLISHED},
    E.PUBLISHED: {A.OBJECT: E.OBJECTION, A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.OBJECTION: {A.REJECT_OBJECTION: E.OBJECTION_REJECTED, A.CORRECT_LISTING: E.CORRECTED,
                  A.ANNUL_LISTING: E.ANNULLED, A.EXPIRE: E.EXPIRED},
    E.OBJECTION_REJECTED: {A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.CORRECTED: {A.REQUEST_REMOVAL: E.REMOVAL_REQUESTED, A.EXPIRE: E.EXPIRED},
    E.REMOVAL_REQUESTED: {A.APPROVE: E.REMOVAL_REQUESTED, A.REMOVE: E.REMOVED, A.EXPIRE: E.EXPIRED},
    E.DROPPED: {}, E.ANNULLED: {}, E.REMOVED: {}, E.EXPIRED: {}, E.REVOKED: {}, E.BASIS_WITHDRAWN: {},
}
for _state, _moves in _ENTRY.items():
    if _moves:  # every open entry may be revoked, or end because its basis went
        _moves[A.REVOKE] = E.REVOKED
        _moves[A.WITHDRAW_BASIS] = E.BASIS_WITHDRAWN

_INCENTIVE: dict[IncentiveState, dict[Action, IncentiveState]] = {
    S.APPLIED: {A.REVIEW: S.REVIEWED, A.REFUSE: S.REFUSAL_NOTIFIED},
    S.REVIEWED: {A.APPROVE: S.REVIEWED, A.PUBLISH: S.PUBLISHED, A.REFUSE: S.REFUSAL_NOTIFIED},
    S.REFUSAL_NOTIFIED: {A.CONFIRM: S.REFUSED, A.ACCEPT_ARGUMENT: S.APPLIED},
    S.PUBLISHED: {A.EXPIRE: S.EXPIRED, A.REVOKE: S.REVOKED, A.NOTIFY_REMOVAL: S.REMOVAL_NOTIFIED},
    S.REMOVAL_NOTIFIED: {A.APPROVE: S.REMOVAL_NOTIFIED, A.REMOVE: S.REMOVED, A.EXPIRE: S.EXPIRED,
                         A.REVOKE: S.REVOKED},
    S.EXPIRED: {},
    S.REVOKED: {},
    S.REFUSED: {},
    S.REMOVED: {},
}

# the steps that pass each level's approval (`profile.procedure`), by the state they wait in:
# state -> (the profile key naming the levels, the step the last level's approval carries out)
APPROVED_STEPS: Mapping[tuple[str, str], tuple[str, Action]] = {
    ("punishment", E.REMOVAL_REQUESTED.value): ("removal", A.REMOVE),
    ("incentive", S.REVIEWED.value): ("incentive_review", A.PUBLISH),
    ("incentive", S.REMOVAL_NOTIFIED.value): ("incentive_removal", A.REMOVE),
}


def approved_step(list_kind: str, state: str) -> tuple[str, Action] | None:
    """The approvals an entry in `state` waits for: (profile key, the step they carry out), or None."""
    return APPROVED_STEPS.get(("incentive" if list_kind == "incentive" else "punishment", str(state)))

PUNISHMENT_LISTS = ("joint_punishment", "blacklist")
LIST_KINDS = (*PUNISHMENT_LISTS, "incentive")


@dataclass(frozen=True)
class Vocabulary:
    """What the states of one lifecycle mean, derived from its transition table."""

    states: frozenset[str]
    final: frozenset[str]  # nothing may follow
    in_force: frozenset[str]  # the listing applies (between publication and its end)
    public: frozenset[str]  # reached only through publication: the listing was announced
    procedure: frozenset[str]  # open, before publication (notice, confirmation, review)

    @classmethod
    def derive(cls, table: Mapping, start: StrEnum, published: StrEnum) -> Vocabulary:
        final = {s for s, moves in table.items() if not moves}
        # in force: published, and every open state reached from it
        in_force, todo = {published}, [published]
        while todo:
            for nxt in table[todo.pop()].values():
                if nxt not in final and nxt not in in_force:
                    in_force.add(nxt)
                    todo.append(nxt)
        after = _reachable(table, published)
        before = _reachable({s: m for s, m in table.items() if s != published}, start)
        return cls(
            states=frozenset(str(s) for s in table),
            final=frozenset(str(s) for s in final),
            in_force=frozenset(str(s) for s in in_force),
            public=frozenset(str(s) for s in (after - before) | {published}),
            procedure=frozenset(str(s) for s in table if s not in final and s not in in_force),
        )


def _reachable(table: Mapping, start: StrEnum) -> set:
    seen, todo = {start}, [start]
    while todo:
        for nxt in table.get(todo.pop(), {}).values():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


ENTRY_VOCABULARY = Vocabulary.derive(_ENTRY, E.PROPOSED, E.PUBLISHED)
INCENTIVE_VOCABULARY = Vocabulary.derive(_INCENTIVE, S.APPLIED, S.PUBLISHED)
# every state name in force, whatever the list: what a query filters on (`state IN (...)`)
IN_FORCE_STATES = tuple(sorted(ENTRY_VOCABULARY.in_force | INCENTIVE_VOCABULARY.in_force))
PUBLIC_STATES = tuple(sorted(ENTRY_VOCABULARY.public | INCENTIVE_VOCABULARY.public))
PROCEDURE_STATES = tuple(sorted(ENTRY_VOCABULARY.procedure | INCENTIVE_VOCABULARY.procedure))
FINAL_STATES = tuple(sorted(ENTRY_VOCABULARY.final | INCENTIVE_VOCABULARY.final))


def vocabulary(list_kind: str) -> Vocabulary:
    if list_kind == "incentive":
        return INCENTIVE_VOCABULARY
    if list_kind in PUNISHMENT_LISTS:
        return ENTRY_VOCABULARY
    raise ValueError(f"unknown list kind {list_kind!r}; one of {', '.join(LIST_KINDS)}")


def states_allowing(action: Action | str) -> tuple[str, ...]:
    """Every state (of any list) in which `action` may be taken."""
    act = Action(parse_action(action))
    found = {str(s) for table in (_ENTRY, _INCENTIVE) for s, moves in table.items() if act in moves}
    return tuple(sorted(found))


def is_in_force(list_kind: str, state: str) -> bool:
    return str(state) in vocabulary(list_kind).in_force


def is_final(list_kind: str, state: str) -> bool:
    return str(state) in vocabulary(list_kind).final


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


def parse_action(action: str) -> str:
    """The canonical action named `action` (API spelling, aliases of the first release accepted)."""
    text = str(action).strip().lower().replace("-", "_")
    alias = ACTION_ALIASES.get(text)
    return alias.value if alias is not None else text


def _table(state: EntryState | IncentiveState) -> dict:  # type: ignore[type-arg]
    return _INCENTIVE if isinstance(state, IncentiveState) else _ENTRY


def allowed_actions(list_kind: str, state: str) -> list[str]:
    """The actions an operator may take on an entry of `list_kind` in `state` (empty when final)."""
    typed = parse_state(list_kind, str(state))
    return [a.value for a in _table(typed)[typed] if a not in SYSTEM_ACTIONS]


def transition(
    state: EntryState | IncentiveState,
    action: Action | str,
    *,
    fraud: bool = False,
    profile: Profile | None = None,
    by_system: bool = False,
) -> Transition:
    """The state after `action`; raises IllegalTransition (with the allowed actions) if not allowed.

    Pass an `EntryState` for joint punishment / blacklist entries and an `IncentiveState` for
    incentive entries (`parse_state` turns stored strings into these). System actions
    (`withdraw_basis`) need `by_system=True`. Revoking an incentive entry with `fraud=True`
    adds the instruction to list the unit at once on the profile's fraud list
    (`incentive.on_fraud.list`; the blacklist when no profile is given).
    """
    table = _table(state)
    moves = table[state]
    allowed = [a.value for a in moves if by_system or a not in SYSTEM_ACTIONS]
    try:
        act = Action(parse_action(action))
        if act not in moves or (act in SYSTEM_ACTIONS and not by_system):
            raise KeyError(act)
        new = moves[act]
    except (ValueError, KeyError):
        raise IllegalTransition(state.value, str(action), allowed) from None
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
