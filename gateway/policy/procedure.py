"""The listing procedure carried out on stored entries (docs/policy.md §4-§6): one step of an entry,
proposals for new candidacies, the windows the calendar opens.

Both the operators' actions (`gateway.policy.service`) and the change-feed consumer's policy
step (`gateway.policy.step`: expiry, windows, an entry whose basis was withdrawn) go through
`apply_transition`, so every step is recorded the same way: the new state and dates on the
entry, one event with who, when, from, action, to and why. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from gateway.clock import CHINA_TZ
from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy import entry_period, parse_state
from gateway.domain.policy import transition as lifecycle_transition
from gateway.domain.policy.decide import SubjectDecisions
from gateway.domain.policy.lifecycle import (
    Action,
    EntryState,
    IncentiveState,
    Instruction,
    Transition,
    allowed_actions,
    is_final,
)
from gateway.domain.policy.periods import add_working_days
from gateway.domain.policy.profile import Profile, ProfileError
from gateway.policy import repository as repo
from gateway.policy.approvals import check_approved, record_approval
from gateway.policy.outcomes import (
    SYSTEM,
    ArgumentPeriodOpen,
    EvidenceRequired,
    HappenedOnOutOfBounds,
    RemovalWindowClosed,
    RemovalWindowNotOpen,
)
from gateway.policy.profiles import load_profile

log = logging.getLogger("gateway.policy")


def open_key(list_kind: str, cases: Iterable[str]) -> str:
    return f"{list_kind}:{','.join(cases)}"[:400]


def china_day(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA_TZ).date()


@dataclass
class Applied:
    """One step carried out: the entry as it is now, the step, and entries its instructions made."""

    entry: Any
    step: Transition
    created: list[Any] = field(default_factory=list)


def entry_profile(row: Any, fallback: Profile) -> Profile:
    """The profile the entry was made under (its periods follow those rules), else `fallback`."""
    if row.profile == fallback.name:
        return fallback
    try:
        return load_profile(row.profile)
    except ProfileError:  # a profile file since removed
        return fallback


def apply_transition(
    conn: Connection,
    row: Any,
    action: str,
    *,
    actor: str,
    now: dt.datetime,
    profile: Profile,
    calendar: WorkingCalendar,
    argument_window_days: int,
    note: str | None = None,
    fraud: bool = False,
    by_system: bool = False,
    argument: str | None = None,
    happened_on: dt.date | None = None,
    level: str | None = None,
    evidence: str | None = None,
    acting_for: str | None = None,
) -> Applied:
    """Carry out `action` on the entry `row` (raises IllegalTransition, RemovalWindowNotOpen,
    HappenedOnOutOfBounds). `happened_on` is the day the step really happened (a notice served
    on day X; default: today in China): never after today, never before the step it follows;
    the deadlines and periods the step sets count from it (rule 3)."""
    today = check_happened_on(conn, row, happened_on, china_day(now))
    own = entry_profile(row, profile)
    step = lifecycle_transition(parse_state(row.list_kind, row.state), action, fraud=fraud, profile=own,
                                by_system=by_system)
    if step.action == Action.APPROVE:
        final = record_approval(conn, row, own, actor=actor, level=level, now=now, day=today, note=note)
        if final is None:
            return Applied(repo.get_entry(conn, row.uid), step)
        return apply_transition(conn, repo.get_entry(conn, row.uid), final.value, actor=actor, now=now,
                                profile=profile, calendar=calendar, argument_window_days=argument_window_days,
                                note="approved by every level", happened_on=today)
    check_approved(conn, row, own, step.action)
    values: dict[str, Any] = {"state": step.state, "updated_at": now}
    detail: dict[str, Any] = {}
    if is_final(row.list_kind, step.state):
        values["open_key"] = None
    if step.action == Action.REFUSE and not (evidence or "").strip():
        raise EvidenceRequired("refusing an application needs the evidence it did not pass on (evidence)",
                               entry=row.uid)
    if evidence:
        detail["evidence"] = evidence
    if step.action in (Action.NOTIFY, Action.REFUSE, Action.NOTIFY_REMOVAL):  # a notice: the unit may argue
        deadline = add_working_days(calendar, today, argument_window_days)
        values.update(notified_at=now, argument_deadline=deadline.date)
        detail["argument_deadline"] = deadline.date.isoformat()
    elif step.action == Action.CONFIRM:
        check_argument_period(row, today, argument)
        if argument:
            detail["argument"] = argument
    elif step.action == Action.PUBLISH:
        values.update(_period_values(row.list_kind, today, own, calendar, detail))
    elif step.action == Action.REQUEST_REMOVAL:
        check_removal_window(row, today)
    elif step.action == Action.CORRECT_LISTING:
        values.update(revision=(row.revision or 0) + 1, correction_note=note)
        detail["revision"] = values["revision"]
    if fraud:
        detail["fraud"] = True
    if step.instructions:
        detail["instructions"] = [i.to_dict() for i in step.instructions]
    repo.update_entry(conn, row.id, values)
    repo.insert_event(conn, row.id, from_state=step.from_state, action=step.action, to_state=step.state,
                      actor=actor, at=now, note=note, detail=detail or None, happened_on=today,
                      acting_for=acting_for)
    created = [made for i in step.instructions
               if (made := follow(conn, row, i, actor=actor, now=now, profile=own, calendar=calendar)) is not None]
    return Applied(repo.get_entry(conn, row.uid), step, created)


def _period_values(list_kind: str, day: dt.date, profile: Profile, calendar: WorkingCalendar,
                   detail: dict[str, Any]) -> dict[str, Any]:
    period = entry_period(list_kind, day, profile, calendar)
    detail["period"] = {k: v for k, v in period.to_dict().items() if k != "reasons"}
    return {"starts_on": period.starts_on, "expires_on": period.expires_on,
            "removal_window_opens_on": period.removal_window_opens_on,
            "early_removal_from": period.early_removal_from, "reapply_from": period.reapply_from}


def check_happened_on(conn: Connection, row: Any, happened_on: dt.date | None, today: dt.date) -> dt.date:
    """The day a step happened: `happened_on` (default `today`), refused when it is after today
    or before the day of the step it follows (the latest step that changed the entry's state)."""
    if happened_on is None:
        return today
    if happened_on > today:
        raise HappenedOnOutOfBounds(f"happened_on {happened_on.isoformat()} is in the future (today is "
                                    f"{today.isoformat()} in China)", happened_on=happened_on.isoformat(),
                                    latest=today.isoformat(), entry=row.uid)
    previous = repo.last_step_day(conn, row.id)
    if previous is not None and happened_on < previous:
        raise HappenedOnOutOfBounds(f"happened_on {happened_on.isoformat()} is before the step it follows "
                                    f"({previous.isoformat()})", happened_on=happened_on.isoformat(),
                                    earliest=previous.isoformat(), entry=row.uid)
    return happened_on


ARGUMENT_OUTCOMES = ("waived", "rejected")  # 放弃陈述申辩 / 申辩理由不成立 (accepted: `drop`)


def check_argument_period(row: Any, today: dt.date, argument: str | None) -> None:
    """Confirmation only after the last day of the argument period, unless the subject waived
    it or the outcome of its argument is recorded (`001` §三(四)1(2))."""
    if argument is not None and argument not in ARGUMENT_OUTCOMES:
        raise ValueError(f"argument must be one of {', '.join(ARGUMENT_OUTCOMES)}")
    if argument is None and row.argument_deadline is not None and today <= row.argument_deadline:
        raise ArgumentPeriodOpen(
            f"the subject may argue until {row.argument_deadline.isoformat()}; confirm from the next day, "
            "or record its waiver or the outcome of its argument (argument: waived | rejected)",
            entry=row.uid, argument_deadline=row.argument_deadline.isoformat())


def check_removal_window(row: Any, today: dt.date) -> None:
    if row.expires_on is not None and today >= row.expires_on:
        raise RemovalWindowClosed(f"the listing expires on {row.expires_on.isoformat()}; removal is no longer "
                                  "applied for", entry=row.uid, expires_on=row.expires_on.isoformat())
    opens = [d for d in (row.removal_window_opens_on, row.early_removal_from) if d is not None]
    if opens and today < min(opens):
        first = min(opens)
        raise RemovalWindowNotOpen(f"removal may be applied for from {first.isoformat()}",
                                   opens_on=first.isoformat(), entry=row.uid)


def follow(conn: Connection, origin: Any, instruction: Instruction, *, actor: str, now: dt.datetime,
           profile: Profile, calendar: WorkingCalendar) -> Any | None:
    """Carry out an instruction of a transition: list the unit on another list AT ONCE
    (incentive fraud → the profile's fraud list, `001` §三(四)2(3)): the entry is published
    with its period from today, so every answer and every receiver has it now."""
    if instruction.action != "list":
        log.warning("instruction %r of entry %s is not carried out by the gateway", instruction.action, origin.uid)
        return None
    cases = [instruction.reason.case]
    detail: dict[str, Any] = {"origin": origin.uid, "immediately": instruction.immediately}
    values = _period_values(instruction.list_kind, china_day(now), profile, calendar, detail)
    row = repo.insert_entry(conn, {
        "uid": repo.new_entry_uid(), "subject_id": origin.subject_id, "list_kind": instruction.list_kind,
        "state": EntryState.PUBLISHED.value, "open_key": open_key(instruction.list_kind, cases), "cases": cases,
        "record_uids": list(origin.record_uids or []), "reasons": [instruction.reason.to_dict()],
        "region": origin.region, "profile": profile.name, "origin_uid": origin.uid,
        "created_at": now, "updated_at": now, **values,
    })
    if row is None:  # already open on that list for this case
        return None
    repo.insert_event(conn, row.id, from_state=None, action="list", to_state=EntryState.PUBLISHED.value, actor=actor,
                      at=now,
                      note=instruction.reason.text_zh, detail=detail)
    return repo.get_entry(conn, row.uid)


def propose(conn: Connection, subject: Any, decisions: SubjectDecisions, entries: Sequence[Any], profile: Profile,
            now: dt.datetime) -> list[Any]:
    """A `proposed` entry (actor `system`) for each new joint punishment / blacklist candidacy —
    never a second open entry for the same list and cases, and not again for the same facts
    once an entry on them was dropped or ended. Incentive entries start by application."""
    made = []
    for c in decisions.lists:
        if not c.candidate:
            continue
        own = {h.case for h in c.cases}
        implied = {f"implied_by:{k}" for k in c.implied_by}
        cases = sorted(own | implied)
        record_uids = list(c.record_ids)
        if any(_covers(e, c.list_kind, sorted(own or implied), cases, record_uids) for e in entries):
            continue
        row = repo.insert_entry(conn, {
            "uid": repo.new_entry_uid(), "subject_id": subject.id, "list_kind": c.list_kind,
            "state": EntryState.PROPOSED.value,
            "open_key": open_key(c.list_kind, cases), "cases": cases, "record_uids": record_uids,
            "reasons": [r.to_dict() for r in c.reasons], "region": subject.region, "profile": profile.name,
            "created_at": now, "updated_at": now,
        })
        if row is None:  # a concurrent consumer proposed it first
            continue
        repo.insert_event(conn, row.id, from_state=None, action="propose", to_state="proposed", actor=SYSTEM, at=now,
                          note=f"{c.title_zh}：{'、'.join(cases)}", detail={"cases": cases, "record_uids": record_uids})
        made.append(row)
    return made


def _covers(entry: Any, list_kind: str, needed: list[str], cases: list[str], record_uids: list[str]) -> bool:
    """Whether `entry` already stands for this candidacy: an open entry of the list with
    the candidacy's own cases (being implied by another list adds no case of its own),
    or a closed one decided on all the same cases and the same records."""
    if entry.list_kind != list_kind:
        return False
    have = set(entry.cases or [])
    if entry.open_key is not None:
        return set(needed) <= have
    return set(cases) <= have and set(record_uids) <= set(entry.record_uids or [])


def flag_windows(conn: Connection, row: Any, day: dt.date, now: dt.datetime) -> list[str]:
    """Flag, once, a removal window (municipal: 30 working days before expiry; national: 12
    months after the start) or an incentive reapplication window that opened by `day`."""
    flagged = []
    actions = set(allowed_actions(row.list_kind, row.state))
    if row.expires_on is None or row.expires_on <= day:
        return flagged
    opens = [d for d in (row.removal_window_opens_on, row.early_removal_from) if d is not None]
    if ("request_removal" in actions and row.removal_window_flagged_on is None and opens and min(opens) <= day
            and repo.update_entry(conn, row.id, {"removal_window_flagged_on": day, "updated_at": now},
                                  unless_set="removal_window_flagged_on")):
        repo.insert_event(conn, row.id, from_state=row.state, action="window_opened", to_state=row.state, actor=SYSTEM,
                          at=now, note=f"removal may be applied for from {min(opens).isoformat()}",
                          detail={"window": "removal", "opens_on": min(opens).isoformat()})
        flagged.append("removal")
    if (row.list_kind == "incentive" and row.state == IncentiveState.PUBLISHED and row.reapply_window_flagged_on is None
            and row.reapply_from is not None and row.reapply_from <= day
            and repo.update_entry(conn, row.id, {"reapply_window_flagged_on": day, "updated_at": now},
                                  unless_set="reapply_window_flagged_on")):
        repo.insert_event(conn, row.id, from_state=row.state, action="window_opened", to_state=row.state, actor=SYSTEM,
                          at=now, note=f"reapplication open from {row.reapply_from.isoformat()}",
                          detail={"window": "reapply", "opens_on": row.reapply_from.isoformat()})
        flagged.append("reapply")
    return flagged
