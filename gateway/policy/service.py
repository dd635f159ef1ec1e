"""The policy use cases operators and agencies call (docs/policy.md §4-§7).

- `transition(entry_id, action, actor)`: one step of an entry's procedure
  (`gateway.policy.procedure`), recorded with who and when; the subject's change goes into
  the feed in the same transaction, so its standing and what receivers get follow.
- `apply_incentive(subject_id, actor)`: an application for the incentive list (守信联合激励),
  checked on the subject's stored decisions once its pending change is decided.
- `decisions_for(subject_id)`: the stored decisions, entries and whether a change is pending;
  nothing is recomputed on a request.
- `recompute(subject_ids)` / `recompute_all()`: put subjects in the feed and decide them now.
- `sweep(as_of)`: the daily pass (`gateway.policy.sweep`).

Everything the gateway decides by itself (proposals, expiry, windows, basis) is the
change-feed consumer's policy step (`gateway.policy.step`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gateway.changes import feed
from gateway.clock import Clock, china_today
from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.lifecycle import IllegalTransition, parse_action
from gateway.domain.policy.profile import Profile
from gateway.domain.standing import responsible_persons
from gateway.policy import repairs
from gateway.policy import repository as repo
from gateway.policy.outcomes import (
    AsOfInFuture,
    ChangeNotDecided,
    EntryNotFound,
    HappenedOnOutOfBounds,
    IncentiveEntryOpen,
    NotEligible,
    SubjectNotFound,
    SweepResult,
    TransitionNotAllowed,
    TransitionResult,
)
from gateway.policy.procedure import apply_transition, open_key
from gateway.policy.provider import Acting, check_acting
from gateway.policy.sweep import sweep
from gateway.policy.views import decision_view, entry_view, persons_view
from gateway.store.db import Database
from gateway.subjects.snapshot import to_record

# decide these subjects' pending changes now (the change-feed consumer's `decide_now`)
DecideNow = Callable[[Iterable[int], dt.date | None], Any]


def profile_digest(profile: Profile) -> str:
    """What identifies the rules a profile states (its content, not its file's name or path)."""
    return hashlib.sha256(profile.model_dump_json(exclude={"source"}).encode()).hexdigest()


@dataclass
class RecomputeResult:
    subjects: int
    proposed: list[str]
    failed: dict[int, str]

    def to_dict(self) -> dict[str, Any]:
        return {"subjects": self.subjects, "proposed": self.proposed, "failed": self.failed}


@dataclass
class PolicyService:
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    profile: Profile
    argument_window_days: int
    decide_now: DecideNow
    # (conn, day) -> (count, first uids): 双公示 records past publish_by that no destination got
    overdue: Callable[[Any, dt.date], tuple[int, list[str]]] | None = None

    def today(self) -> dt.date:
        return china_today(self.clock)

    # --- decisions ----------------------------------------------------------------------

    def decisions_for(self, subject_id: int) -> dict[str, Any]:
        """The subject's stored decisions and entries, and whether a change is still pending."""
        with self.db.read() as conn:
            subject = repo.get_subject(conn, subject_id)
            if subject is None:
                raise SubjectNotFound(f"no subject {subject_id}")
            row = repo.get_decision(conn, subject_id, self.profile.name)
            entries = repo.subject_entries(conn, subject_id)
            pending = bool(feed.pending_for(conn, [subject_id]))
        if row is None:
            raise ChangeNotDecided(f"{subject.key}: its records are still being decided; ask again shortly",
                                   subject=subject.key, headers={"Retry-After": "1"})
        view = decision_view(subject, row, entries)
        view["pending_change"] = pending
        return view

    def recompute(self, subject_ids: Iterable[int], *, as_of: dt.date | None = None) -> RecomputeResult:
        """Decide the subjects now, as of `as_of` (default today; never after today)."""
        if as_of is not None and as_of > self.today():
            raise AsOfInFuture(f"cannot decide as of {as_of.isoformat()}: today is {self.today().isoformat()} in China",
                               as_of=as_of.isoformat(), latest=self.today().isoformat())
        ids = sorted(set(subject_ids))
        with self.db.write() as conn:
            feed.enqueue(conn, ids, self.clock.now(), "operator")
        batch = self.decide_now(ids, as_of)
        proposed = [uid for r in batch.results.values() for uid in r.policy.proposed]
        return RecomputeResult(len(batch.results), proposed, dict(batch.failed))

    def follow_profile(self) -> int:
        """A deployment switched profiles (or edited the one it runs): every subject goes into
        the change feed, so each standing is decided under the rules now in force. Returns
        how many were enqueued (0 when the profile is the one already recorded)."""
        now = self.clock.now()
        current = {"name": self.profile.name, "digest": profile_digest(self.profile)}
        with self.db.write() as conn:
            if repo.deployment_value(conn, "policy_profile") == current:
                return 0
            n = feed.enqueue_all(conn, now, "profile")
            repo.set_deployment_value(conn, "policy_profile", current, now)
        return n

    def recompute_all(self) -> int:
        """Every subject into the feed (the consumers decide them); how many."""
        with self.db.write() as conn:
            return feed.enqueue_all(conn, self.clock.now(), "operator")

    # --- list entries --------------------------------------------------------------------

    def entry(self, uid: str, viewer_agency: str | None = None) -> dict[str, Any]:
        """The entry with its history and responsible persons (ID numbers in full only to
        `viewer_agency` when it provided the record naming them)."""
        with self.db.read() as conn:
            row = repo.get_entry(conn, uid)
            if row is None:
                raise EntryNotFound(f"no list entry {uid!r}", entry=uid)
            view = entry_view(row, repo.entry_events(conn, [row.id])[row.id])
            recs = [to_record(r, row.subject_key) for r in repo.entry_records(conn, list(row.record_uids or []))]
        view["responsible_persons"] = persons_view(responsible_persons(recs, frozenset(r.id for r in recs)),
                                                   viewer_agency)
        return view

    def entries(self, *, after_id: int = 0, limit: int = 100, **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
        """A page of entries and the id to continue after (None on the last page)."""
        with self.db.read() as conn:
            rows = repo.find_entries(conn, after_id=after_id, limit=limit + 1, **filters)
        more = len(rows) > limit
        rows = rows[:limit]
        return [entry_view(r) for r in rows], (rows[-1].id if more and rows else None)

    def apply_incentive(self, subject_id: int, actor: str, note: str | None = None) -> dict[str, Any]:
        """An application for the incentive list: state `applied`, or NotEligible naming the
        conditions that fail (docs/policy.md §5), on the subject's decisions as they stand now."""
        batch = self.decide_now([subject_id], None)
        if subject_id in batch.failed:
            raise ChangeNotDecided(f"the subject's latest change could not be decided: {batch.failed[subject_id]}")
        today = self.today()
        now = self.clock.now()
        with self.db.write() as conn:
            subject = repo.get_subject(conn, subject_id)
            if subject is None:
                raise SubjectNotFound(f"no subject {subject_id}")
            row = repo.get_decision(conn, subject_id, self.profile.name)
            if row is None or feed.pending_for(conn, [subject_id]):
                raise ChangeNotDecided(f"{subject.key}: its records are still being decided; apply again shortly",
                                       subject=subject.key, headers={"Retry-After": "1"})
            inc = row.body["incentive"]
            if not inc["eligible"]:
                raise NotEligible(f"conditions not met: {', '.join(inc['missing'])}", missing=list(inc["missing"]),
                                  conditions=list(inc["conditions"]))
            for e in repo.subject_entries(conn, subject_id, open_only=True):
                if e.list_kind == "incentive" and not (e.reapply_from and e.reapply_from <= today):
                    raise IncentiveEntryOpen(f"entry {e.uid} is {e.state}", entry=e.uid, state=e.state)
            cases = [c["key"] for c in inc["conditions"]]
            made = repo.insert_entry(conn, {
                "uid": repo.new_entry_uid(), "subject_id": subject_id, "list_kind": "incentive", "state": "applied",
                "open_key": open_key("incentive", [today.isoformat()]), "cases": cases,
                "record_uids": list(dict.fromkeys(r for c in inc["conditions"] for r in c["record_ids"])),
                "reasons": list(inc["reasons"]), "region": subject.region, "profile": self.profile.name,
                "created_at": now, "updated_at": now,
            })
            if made is None:
                raise IncentiveEntryOpen("an application was already made today", state="applied")
            repo.insert_event(conn, made.id, from_state=None, action="apply", to_state="applied", actor=actor, at=now,
                              note=note)
            feed.enqueue(conn, [subject_id], now, "application")
            return entry_view(made, repo.entry_events(conn, [made.id])[made.id])

    def transition(self, entry_id: str, action: str, actor: str | Acting, note: str | None = None,
                   fraud: bool = False, argument: str | None = None, happened_on: dt.date | None = None,
                   level: str | None = None, evidence: str | None = None) -> TransitionResult:
        """One step of the entry's procedure; TransitionNotAllowed (with `allowed`) when it may not follow.
        `actor` is the credential (an operator's), or an `Acting` naming an agency key or the
        agency an operator acts for (objection answers: 谁提供、谁负责, `gateway.policy.provider`).
        `happened_on`: the day the step really happened (default today; never in the future, never
        before the step it follows)."""
        who = actor if isinstance(actor, Acting) else Acting(actor)
        now = self.clock.now()
        with self.db.write() as conn:
            row = repo.get_entry(conn, entry_id, for_update=True)
            if row is None:
                raise EntryNotFound(f"no list entry {entry_id!r}", entry=entry_id)
            try:
                parsed = parse_action(action)
                acting_for = check_acting(conn, row, parsed, who)
                done = apply_transition(conn, row, parsed, actor=who.actor, now=now, profile=self.profile,
                                        calendar=self.calendar, argument_window_days=self.argument_window_days,
                                        note=note, fraud=fraud, argument=argument, happened_on=happened_on,
                                        level=level, evidence=evidence, acting_for=acting_for)
            except IllegalTransition as exc:
                raise TransitionNotAllowed.from_domain(exc, entry_id, action) from None
            feed.enqueue(conn, [row.subject_id], now, "transition")
            events = repo.entry_events(conn, [done.entry.id, *(c.id for c in done.created)])
            view = entry_view(done.entry, events[done.entry.id])
            created = [entry_view(c, events[c.id]) for c in done.created]
        return TransitionResult(view, done.step, created)

    # --- credit repair (信用修复, rule 5) ---------------------------------------------------

    def apply_repair(self, subject_id: int, record_id: str, actor: str, note: str | None = None,
                     happened_on: dt.date | None = None) -> dict[str, Any]:
        """The subject applies for the repair of one of its penalties (`gateway.policy.repairs`):
        refused before the minimum publication period ends, with the earliest day."""
        batch = self.decide_now([subject_id], None)
        if subject_id in batch.failed:
            raise ChangeNotDecided(f"the subject's latest change could not be decided: {batch.failed[subject_id]}")
        day = self._day(happened_on)
        with self.db.write() as conn:
            row = repo.get_decision(conn, subject_id, self.profile.name)
            found = [p for p in (row.body.get("penalties") or [])] if row is not None else []
            penalty = next((p for p in found if p["record_id"] == record_id), None)
            if penalty is None:
                raise repairs.PenaltyNotFound(f"the subject has no current penalty {record_id!r}", record_id=record_id)
            made = repairs.apply(conn, subject_id, penalty, actor=actor, day=day, now=self.clock.now(), note=note)
            return repairs.view(made)

    def decide_repair(self, uid: str, outcome: str, actor: str, note: str | None = None,
                      happened_on: dt.date | None = None) -> dict[str, Any]:
        """Approve or refuse a repair application; an approval withdraws the penalty's
        publication everywhere it was sent (the subject's change goes into the feed)."""
        day = self._day(happened_on)
        now = self.clock.now()
        with self.db.write() as conn:
            row = repairs.get(conn, uid, for_update=True)
            if row is None:
                raise repairs.RepairNotFound(f"no repair application {uid!r}", repair=uid)
            done = repairs.decide(conn, row, outcome, actor=actor, day=day, now=now, note=note)
            feed.enqueue(conn, [row.subject_id], now, "repair")
        self.decide_now([row.subject_id], None)
        return repairs.view(done)

    def repair(self, uid: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = repairs.get(conn, uid)
        if row is None:
            raise repairs.RepairNotFound(f"no repair application {uid!r}", repair=uid)
        return repairs.view(row)

    def _day(self, happened_on: dt.date | None) -> dt.date:
        today = self.today()
        if happened_on is not None and happened_on > today:
            raise HappenedOnOutOfBounds(f"happened_on {happened_on.isoformat()} is in the future (today is "
                                        f"{today.isoformat()} in China)", happened_on=happened_on.isoformat(),
                                        latest=today.isoformat())
        return happened_on or today

    # --- the daily sweep -----------------------------------------------------------------

    def sweep(self, as_of: dt.date | None = None) -> SweepResult:
        return sweep(self, as_of or self.today(), overdue=self.overdue)
