"""Policy use cases over the store: decisions, list entries and their lifecycle (RULES.md §4-§7).

- `recompute(subject_ids)`: run the engine (`decide`) on each subject's current records as
  of today in China, store the decisions (rewritten only when they changed), and propose a
  joint punishment / blacklist entry (state `proposed`, actor `system`) for each new
  candidacy — never a second open entry for the same list and cases, and not again for the
  same facts once an entry on them was dropped or ended. Incentive candidacies are never
  proposed: an incentive entry starts by application (`apply_incentive`).
- `transition(entry_id, action, actor)`: one lifecycle step (`gateway.domain.policy.lifecycle`),
  recorded with who and when; `notify` sets the argument deadline (告知, working days),
  `publish` the period and its windows (`entry_period`); instructions are carried out (an
  incentive revoked for fraud lists the unit at once on the profile's fraud list).
- `sweep(as_of)`: the daily pass (`gateway.policy_sweep`) — expire entries whose period
  ended, flag removal and reapplication windows that opened, report overdue 双公示 records
  and star-less subjects. Running it twice on a day changes nothing the second time.

Wiring: `install(services)` puts the service in `services.extras["policy"]`, chains
`recompute` into intake's listeners and registers `policy_sweep` for the scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from gateway.clock import CHINA_TZ, Clock, china_today
from gateway.config import Settings
from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy import SubjectDecisions, decide, entry_period, parse_state
from gateway.domain.policy import transition as lifecycle_transition
from gateway.domain.policy.lifecycle import IllegalTransition, is_final
from gateway.domain.policy.periods import add_working_days
from gateway.domain.policy.profile import Profile, ProfileError
from gateway.policy_outcomes import (
    SYSTEM,
    EntryNotFound,
    IncentiveEntryOpen,
    NotEligible,
    PolicyError,
    RecomputeResult,
    RemovalWindowNotOpen,
    SubjectNotFound,
    SweepResult,
    TransitionResult,
    digest,
)
from gateway.policy_profiles import load_profile
from gateway.policy_repo import (
    current_records,
    entry_events,
    find_entries,
    get_decision,
    get_entry,
    get_subject,
    insert_entry,
    insert_event,
    new_entry_uid,
    save_decision,
    subject_entries,
    subject_ids_with_records,
    update_entry,
)
from gateway.policy_sweep import sweep
from gateway.policy_views import decision_view, entry_view
from gateway.store.db import Database

log = logging.getLogger("gateway.policy")


__all__ = [
    "EntryNotFound",
    "IllegalTransition",
    "IncentiveEntryOpen",
    "NotEligible",
    "PolicyError",
    "PolicyService",
    "RecomputeResult",
    "RemovalWindowNotOpen",
    "SubjectNotFound",
    "SweepResult",
    "TransitionResult",
    "get",
    "install",
    "policy_sweep",
]


def normalise_action(action: str) -> str:
    return str(action).strip().lower().replace("-", "_")


def _open_key(list_kind: str, cases: Iterable[str]) -> str:
    return f"{list_kind}:{','.join(cases)}"[:400]


# --- the service ------------------------------------------------------------------------------


@dataclass
class PolicyService:
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    settings: Settings
    # called with the subject ids whose list entries changed state (publication re-queues them)
    transition_listeners: list[Callable[[set[int]], None]] = field(default_factory=list)

    def profile(self, name: str | None = None) -> Profile:
        return load_profile(name or self.settings.policy_profile)

    def today(self) -> dt.date:
        return china_today(self.clock)

    # --- decisions -------------------------------------------------------------------------

    def recompute(self, subject_ids: Iterable[int], *, as_of: dt.date | None = None) -> RecomputeResult:
        """Decide each subject afresh, store the decisions, propose entries for new candidacies."""
        as_of = as_of or self.today()
        profile = self.profile()
        result = RecomputeResult()
        for sid in sorted(set(subject_ids)):
            with self.db.write() as conn:
                done = self._recompute_one(conn, sid, as_of, profile)
            if done is None:
                continue
            _, changed, proposed = done
            result.subjects += 1
            result.decisions_changed += changed
            result.proposed.extend(proposed)
        return result

    def recompute_all(self, *, as_of: dt.date | None = None) -> RecomputeResult:
        with self.db.read() as conn:
            sids = subject_ids_with_records(conn)
        return self.recompute(sids, as_of=as_of)

    def on_change(self, subject_ids: set[int]) -> None:
        """The intake callback. The records are already stored: a failure is logged, not raised,
        and the decisions endpoint recomputes stale subjects on demand."""
        try:
            self.recompute(subject_ids)
        except Exception:  # noqa: BLE001 - intake has committed
            log.exception("recomputing decisions for %d subject(s) failed", len(subject_ids))

    def _recompute_one(
        self, conn: Connection, subject_id: int, as_of: dt.date, profile: Profile
    ) -> tuple[SubjectDecisions, bool, list[str]] | None:
        subject = get_subject(conn, subject_id)
        if subject is None:
            return None
        decisions = decide(current_records(conn, subject_id, subject.key), as_of, profile, self.calendar)
        body = decisions.to_dict()
        now = self.clock.now()
        changed = save_decision(
            conn, subject_id=subject_id, profile=profile.name, as_of=as_of, body=body, digest=digest(body),
            subject_changed_at=subject.changed_at, now=now,
        )
        return decisions, changed, self._propose(conn, subject, decisions, profile, now)

    def _propose(self, conn: Connection, subject: Any, decisions: SubjectDecisions, profile: Profile,
                 now: dt.datetime) -> list[str]:
        entries = subject_entries(conn, subject.id)
        proposed = []
        for c in decisions.lists:
            if not c.candidate:
                continue
            own = {h.case for h in c.cases}
            implied = {f"implied_by:{k}" for k in c.implied_by}
            cases = sorted(own | implied)
            record_uids = list(c.record_ids)
            if any(self._covers(e, c.list_kind, sorted(own or implied), cases, record_uids) for e in entries):
                continue
            row = insert_entry(conn, {
                "uid": new_entry_uid(), "subject_id": subject.id, "list_kind": c.list_kind, "state": "proposed",
                "open_key": _open_key(c.list_kind, cases), "cases": cases, "record_uids": record_uids,
                "reasons": [r.to_dict() for r in c.reasons], "region": subject.region, "profile": profile.name,
                "created_at": now, "updated_at": now,
            })
            if row is None:  # a concurrent recompute proposed it first
                continue
            insert_event(conn, row.id, from_state=None, action="propose", to_state="proposed", actor=SYSTEM, at=now,
                         note=f"{c.title_zh}：{'、'.join(cases)}", detail={"cases": cases, "record_uids": record_uids})
            proposed.append(row.uid)
        return proposed

    @staticmethod
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

    def decisions_for(self, subject_id: int) -> dict[str, Any]:
        """The subject's stored decisions, recomputed first when stale (records changed since,
        another day, or another profile)."""
        profile = self.profile()
        today = self.today()
        with self.db.read() as conn:
            subject = get_subject(conn, subject_id)
            if subject is None:
                raise SubjectNotFound(f"no subject {subject_id}")
            row = get_decision(conn, subject_id, profile.name)
        if row is None or row.as_of != today or self._stale(row, subject):
            self.recompute([subject_id], as_of=today)
        with self.db.read() as conn:
            subject = get_subject(conn, subject_id)
            row = get_decision(conn, subject_id, profile.name)
            entries = subject_entries(conn, subject_id)
        return decision_view(subject, row, entries)

    @staticmethod
    def _stale(row: Any, subject: Any) -> bool:
        """Records changed after the decision was computed. On a tie (a change and a recompute
        within the same clock tick) which came first is unknown, so it counts as stale."""
        if row.subject_changed_at != subject.changed_at:
            return row.subject_changed_at < subject.changed_at
        return row.checked_at <= subject.changed_at

    # --- list entries ----------------------------------------------------------------------

    def entry(self, uid: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = get_entry(conn, uid)
            if row is None:
                raise EntryNotFound(f"no list entry {uid!r}", entry=uid)
            return entry_view(row, entry_events(conn, [row.id])[row.id])

    def entries(self, *, after_id: int = 0, limit: int = 100, **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
        """A page of entries and the id to continue after (None on the last page)."""
        with self.db.read() as conn:
            rows = find_entries(conn, after_id=after_id, limit=limit + 1, **filters)
        more = len(rows) > limit
        rows = rows[:limit]
        return [entry_view(r) for r in rows], (rows[-1].id if more and rows else None)

    def apply_incentive(self, subject_id: int, actor: str, note: str | None = None) -> dict[str, Any]:
        """An application for the incentive list (守信联合激励): state `applied`, or NotEligible
        naming the conditions that fail (RULES.md §5)."""
        profile = self.profile()
        today = self.today()
        with self.db.write() as conn:
            done = self._recompute_one(conn, subject_id, today, profile)
            if done is None:
                raise SubjectNotFound(f"no subject {subject_id}")
            decisions = done[0]
            inc = decisions.incentive
            if not inc.eligible:
                raise NotEligible(
                    f"conditions not met: {', '.join(inc.missing)}",
                    missing=list(inc.missing),
                    conditions=[c.to_dict() for c in inc.conditions],
                )
            for e in subject_entries(conn, subject_id, open_only=True):
                if e.list_kind == "incentive" and not (e.reapply_from and e.reapply_from <= today):
                    raise IncentiveEntryOpen(f"entry {e.uid} is {e.state}", entry=e.uid, state=e.state)
            subject = get_subject(conn, subject_id)
            now = self.clock.now()
            cases = [c.key for c in inc.conditions]
            row = insert_entry(conn, {
                "uid": new_entry_uid(), "subject_id": subject_id, "list_kind": "incentive", "state": "applied",
                "open_key": _open_key("incentive", [today.isoformat()]), "cases": cases,
                "record_uids": list(dict.fromkeys(r for c in inc.conditions for r in c.record_ids)),
                "reasons": [r.to_dict() for r in inc.reasons], "region": subject.region, "profile": profile.name,
                "created_at": now, "updated_at": now,
            })
            if row is None:
                raise IncentiveEntryOpen("an application was already made today", state="applied")
            insert_event(conn, row.id, from_state=None, action="apply", to_state="applied", actor=actor, at=now,
                         note=note)
            return entry_view(row, entry_events(conn, [row.id])[row.id])

    def transition(self, entry_id: str, action: str, actor: str, note: str | None = None, fraud: bool = False
                   ) -> TransitionResult:
        """Apply one lifecycle action; IllegalTransition (with `.allowed`) when it may not follow."""
        act = normalise_action(action)
        now = self.clock.now()
        today = now.astimezone(CHINA_TZ).date()
        with self.db.write() as conn:
            row = get_entry(conn, entry_id, for_update=True)
            if row is None:
                raise EntryNotFound(f"no list entry {entry_id!r}", entry=entry_id)
            profile = self._entry_profile(row)
            step = lifecycle_transition(parse_state(row.list_kind, row.state), act, fraud=fraud, profile=profile)
            values: dict[str, Any] = {"state": step.state, "updated_at": now}
            detail: dict[str, Any] = {}
            if is_final(row.list_kind, step.state):
                values["open_key"] = None
            if step.action == "notify":
                deadline = add_working_days(self.calendar, today, self.settings.argument_window_days)
                values.update(notified_at=now, argument_deadline=deadline.date)
                detail["argument_deadline"] = deadline.date.isoformat()
            elif step.action == "publish":
                period = entry_period(row.list_kind, today, profile, self.calendar)
                values.update(starts_on=period.starts_on, expires_on=period.expires_on,
                              removal_window_opens_on=period.removal_window_opens_on,
                              early_removal_from=period.early_removal_from, reapply_from=period.reapply_from)
                detail["period"] = {k: v for k, v in period.to_dict().items() if k != "reasons"}
            elif step.action == "request_removal":
                self._check_removal_window(row, today)
            if fraud:
                detail["fraud"] = True
            if step.instructions:
                detail["instructions"] = [i.to_dict() for i in step.instructions]
            update_entry(conn, row.id, values)
            insert_event(conn, row.id, from_state=step.from_state, action=step.action, to_state=step.state,
                         actor=actor, at=now, note=note, detail=detail or None)
            created = [self._follow(conn, row, i, actor, now, profile) for i in step.instructions]
            fresh = get_entry(conn, entry_id)
            view = entry_view(fresh, entry_events(conn, [fresh.id])[fresh.id])
        for listener in self.transition_listeners:
            try:
                listener({row.subject_id})
            except Exception:  # committed already; the daily publication sweep catches up
                log.exception("list-entry transition listener failed for entry %s", entry_id)
        return TransitionResult(view, step, [c for c in created if c is not None])

    def _entry_profile(self, row: Any) -> Profile:
        """The profile the entry was made under (its periods follow those rules), else today's."""
        try:
            return self.profile(row.profile)
        except ProfileError:  # a profile file since removed
            return self.profile()

    @staticmethod
    def _check_removal_window(row: Any, today: dt.date) -> None:
        opens = [d for d in (row.removal_window_opens_on, row.early_removal_from) if d is not None]
        if opens and today < min(opens):
            first = min(opens)
            raise RemovalWindowNotOpen(f"removal may be applied for from {first.isoformat()}",
                                       opens_on=first.isoformat(), entry=row.uid)

    def _follow(self, conn: Connection, origin: Any, instruction: Any, actor: str, now: dt.datetime,
                profile: Profile) -> dict[str, Any] | None:
        """Carry out an instruction of a transition: list the unit on another list at once
        (incentive fraud → the profile's fraud list, `001` §三(四)2(3)), state `confirmed`."""
        if instruction.action != "list":
            log.warning("instruction %r of entry %s is not carried out by the gateway", instruction.action, origin.uid)
            return None
        cases = [instruction.reason.case]
        row = insert_entry(conn, {
            "uid": new_entry_uid(), "subject_id": origin.subject_id, "list_kind": instruction.list_kind,
            "state": "confirmed", "open_key": _open_key(instruction.list_kind, cases), "cases": cases,
            "record_uids": list(origin.record_uids or []), "reasons": [instruction.reason.to_dict()],
            "region": origin.region, "profile": profile.name, "origin_uid": origin.uid,
            "created_at": now, "updated_at": now,
        })
        if row is None:  # already open on that list for this case
            return None
        insert_event(conn, row.id, from_state=None, action="list", to_state="confirmed", actor=actor, at=now,
                     note=instruction.reason.text_zh, detail={"origin": origin.uid, "immediately": instruction.immediately})
        return entry_view(row, entry_events(conn, [row.id])[row.id])

    # --- the daily sweep -------------------------------------------------------------------

    def sweep(self, as_of: dt.date | None = None) -> SweepResult:
        """Expire, flag windows, report overdue 双公示 records and star-less subjects (idempotent)."""
        return sweep(self, as_of or self.today())


# --- wiring -----------------------------------------------------------------------------------


def policy_sweep(services: Any, now: dt.datetime) -> SweepResult:
    """The scheduler's daily call (`services.extras["sweeps"]`)."""
    return get(services).sweep(now.astimezone(CHINA_TZ).date())


def install(services: Any) -> PolicyService:
    """Put the policy service in `services.extras["policy"]`, subscribe it to intake and
    register the daily sweep. Idempotent."""
    existing = services.extras.get("policy")
    if existing is not None:
        return existing
    service = PolicyService(services.db, services.clock, services.calendar, services.settings)
    services.extras["policy"] = service
    services.intake.subscribe(service.on_change)
    sweeps = services.extras.setdefault("sweeps", [])
    if isinstance(sweeps, dict):
        sweeps["policy_sweep"] = policy_sweep
    else:
        sweeps.append(policy_sweep)
    return service


def get(services: Any) -> PolicyService:
    """The installed policy service (installed now when the wiring has not done it)."""
    return services.extras.get("policy") or install(services)
