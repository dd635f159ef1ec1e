"""State machines of list and incentive entries (docs/policy.md §5, §6)."""

from __future__ import annotations

import pytest

from gateway.domain.policy import (
    EntryState,
    IllegalTransition,
    IncentiveState,
    allowed_actions,
    parse_state,
    transition,
)
from tests.policy.policy_builders import NATIONAL


def _run(state, *actions):
    for action in actions:
        state = parse_state("joint_punishment", transition(state, action).state)
    return state


def test_punishment_entry_goes_from_proposal_to_removal():
    end = _run(
        EntryState.PROPOSED, "notify", "confirm", "publish", "object", "uphold", "request_removal", "remove"
    )
    assert end is EntryState.REMOVED


def test_accepted_argument_drops_the_proposed_listing():
    assert _run(EntryState.PROPOSED, "notify", "drop") is EntryState.DROPPED
    assert allowed_actions("joint_punishment", "dropped") == []


@pytest.mark.parametrize(
    "path",
    [
        ("publish", "expire"),
        ("publish", "request_removal", "expire"),
        ("publish", "object", "correct", "expire"),
        ("publish", "object", "correct", "request_removal", "remove"),
    ],
)
def test_published_entry_ends_by_expiry_or_removal(path):
    end = _run(EntryState.CONFIRMED, *path)
    assert end in (EntryState.EXPIRED, EntryState.REMOVED)


def test_illegal_transition_lists_the_allowed_actions():
    with pytest.raises(IllegalTransition) as exc:
        transition(EntryState.PROPOSED, "publish")
    assert exc.value.allowed == ["notify", "revoke"]
    assert "notify" in str(exc.value) and "'publish'" in str(exc.value)


def test_unknown_action_is_an_illegal_transition_too():
    with pytest.raises(IllegalTransition) as exc:
        transition(EntryState.PUBLISHED, "approve")
    assert exc.value.allowed == ["object", "request_removal", "expire", "revoke"]


def test_final_states_allow_nothing():
    for state in ("removed", "expired", "dropped", "revoked"):
        assert allowed_actions("blacklist", state) == []
    with pytest.raises(IllegalTransition) as exc:
        transition(EntryState.EXPIRED, "revoke")
    assert exc.value.allowed == []


def test_incentive_entry_is_applied_reviewed_published_then_expires():
    state = IncentiveState.APPLIED
    for action in ("review", "publish", "expire"):
        state = IncentiveState(transition(state, action).state)
    assert state is IncentiveState.EXPIRED
    assert allowed_actions("incentive", "published") == ["expire", "revoke", "notify_removal"]


def test_incentive_revoked_for_fraud_instructs_blacklisting_at_once():
    t = transition(IncentiveState.PUBLISHED, "revoke", fraud=True)
    assert t.state == "revoked"
    (instr,) = t.instructions
    assert (instr.action, instr.list_kind, instr.immediately) == ("list", "blacklist", True)
    assert instr.reason.case == "incentive_fraud" and instr.reason.rules == "§5"


def test_fraud_list_comes_from_the_profile():
    t = transition(IncentiveState.PUBLISHED, "revoke", fraud=True, profile=NATIONAL)
    assert t.instructions[0].list_kind == "joint_punishment"


def test_incentive_revoked_without_fraud_gives_no_instruction():
    assert transition(IncentiveState.PUBLISHED, "revoke").instructions == ()


def test_incentive_cannot_be_revoked_before_publication():
    with pytest.raises(IllegalTransition) as exc:
        transition(IncentiveState.APPLIED, "revoke")
    assert exc.value.allowed == ["review", "refuse"]


def test_unknown_list_kind_or_state_is_refused():
    with pytest.raises(ValueError):
        allowed_actions("whitelist", "published")
    with pytest.raises(ValueError):
        allowed_actions("incentive", "notified")


def test_transition_to_dict_is_json_ready():
    assert transition(EntryState.PROPOSED, "notify").to_dict() == {
        "from_state": "proposed",
        "action": "notify",
        "state": "notified",
        "instructions": [],
    }
