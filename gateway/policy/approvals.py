"""Level by level (逐级审核, docs/policy.md §6, `001` §三(四)1(4), 2(2)): a removal, an incentive
review and an incentive removal wait for the approval of each level the profile names
(`procedure.removal | incentive_review | incentive_removal`), lowest first. Each approval is
one event (actor = the credential, the level in its detail); one credential approves one
level; the last level's approval carries the step out (`gateway.policy.procedure`), so the
step is published only then. Nothing here commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from gateway.domain.policy.lifecycle import Action, approved_step
from gateway.domain.policy.profile import Profile
from gateway.policy import repository as repo
from gateway.policy.outcomes import ApprovalNotExpected, ApprovalOutOfOrder, ApprovalsPending


def approvals_so_far(conn: Connection, entry_id: int) -> list[Any]:
    """The approval events since the entry entered its present state, in order."""
    found: list[Any] = []
    for e in reversed(repo.entry_events(conn, [entry_id])[entry_id]):
        if e.action == Action.APPROVE.value:
            found.append(e)
        elif e.from_state is None or e.from_state != e.to_state:
            break
    return list(reversed(found))


def _rule(row: Any, profile: Profile) -> tuple[str, Action, tuple[str, ...]] | None:
    waiting = approved_step(row.list_kind, row.state)
    if waiting is None:
        return None
    key, final = waiting
    rule = profile.procedure.approval(key)
    return (key, final, rule.levels) if rule is not None else None


def record_approval(conn: Connection, row: Any, profile: Profile, *, actor: str, level: str | None, now: dt.datetime,
                    day: dt.date, note: str | None) -> Action | None:
    """Record the next level's approval; the step to carry out when it was the last level."""
    rule = _rule(row, profile)
    if rule is None:
        raise ApprovalNotExpected(f"an entry in state {row.state!r} under profile {profile.name!r} waits for no "
                                  "approval", entry=row.uid, state=row.state)
    key, final, levels = rule
    done = approvals_so_far(conn, row.id)
    expected = levels[len(done)]
    if level is not None and level != expected:
        raise ApprovalOutOfOrder(f"the {expected!r} level approves next (levels: {', '.join(levels)})",
                                 entry=row.uid, expected=expected, levels=list(levels))
    if any(e.actor == actor for e in done):
        raise ApprovalOutOfOrder(f"{actor} already approved the {done[0].detail['level']!r} level; each level "
                                 "approves with its own credential", entry=row.uid, expected=expected,
                                 levels=list(levels))
    repo.insert_event(conn, row.id, from_state=row.state, action=Action.APPROVE.value, to_state=row.state,
                      actor=actor, at=now, note=note, happened_on=day,
                      detail={"level": expected, "for": key, "levels": list(levels),
                              "approved": [e.detail["level"] for e in done] + [expected]})
    repo.update_entry(conn, row.id, {"updated_at": now})
    return final if len(done) + 1 == len(levels) else None


def check_approved(conn: Connection, row: Any, profile: Profile, action: str) -> None:
    """Refuse the step an entry waits approvals for while a level has not approved."""
    rule = _rule(row, profile)
    if rule is None or rule[1].value != action:
        return
    _, _, levels = rule
    done = len(approvals_so_far(conn, row.id))
    if done < len(levels):
        raise ApprovalsPending(f"waiting for the approval of {', '.join(levels[done:])} (level by level); "
                               "each level posts `approve`, the last one carries the step out",
                               entry=row.uid, pending=list(levels[done:]), levels=list(levels))
