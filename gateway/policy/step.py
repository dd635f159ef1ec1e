"""The change-feed consumer's policy step (政策步骤): everything that follows from one subject's
change, decided once from its snapshot, in the consumer's transaction.

For each subject, in this order:

1. the calendar: entries whose period ended on or before the day are expired; removal and
   reapplication windows that opened are flagged (once);
2. `decide` on the current records;
3. the basis of every open entry (docs/policy.md §6, "谁提供、谁负责"): an entry whose every record
   was withdrawn ends (`basis_withdrawn`); when some were withdrawn or corrected, the entry
   stays if the remaining records still meet its case (as of the day it was made, or today)
   and takes their current versions, else it ends;
4. a `proposed` entry for each new candidacy;
5. the decisions, stored (rewritten only when their content changed);
6. the standing (`gateway.domain.standing`), stored with its version and next change day.

Steps 5 and 6 join the batch's deferred writes when the consumer passes them (one
executemany per table for the whole batch); entries and their events are written at once,
as later steps read them.

Every write is idempotent (upserts, guarded inserts, transitions that only follow from the
state they expect), so a batch replayed after a crash leaves what one run leaves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy import decide
from gateway.domain.policy.decide import SubjectDecisions
from gateway.domain.policy.incentive import not_listed
from gateway.domain.policy.lifecycle import PUNISHMENT_LISTS, Action, IncentiveState, is_final, is_in_force
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.repair import with_repairs
from gateway.domain.standing import Standing, compute_standing
from gateway.policy import repairs
from gateway.policy import repository as repo
from gateway.policy.outcomes import SYSTEM, digest
from gateway.policy.procedure import apply_transition, china_day, flag_windows, propose
from gateway.store.sql import Deferred
from gateway.subjects import Snapshot, entry_facts


@dataclass
class PolicyOutcome:
    """What the step decided for one subject (the publication step and the sweep read it)."""

    decisions: SubjectDecisions
    standing: Standing
    entries: list[Any]  # every entry of the subject as it is now (rows)
    version: int
    expired: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)  # basis withdrawn
    windows: list[tuple[str, str]] = field(default_factory=list)  # (entry uid, removal | reapply)
    proposed: list[str] = field(default_factory=list)
    repaired: frozenset[str] = frozenset()  # penalty record versions whose credit repair was approved


@dataclass
class PolicyStep:
    profile: Profile
    calendar: WorkingCalendar
    argument_window_days: int
    name: str = "policy"

    def preload(self, conn: Connection, snapshots: dict[int, Snapshot]) -> dict[str, dict[int, Any]]:
        ids = list(snapshots)
        return {"decisions": repo.decisions_of(conn, ids, self.profile.name), "standings": repo.standings_of(conn, ids),
                "repairs": repairs.approved_of(conn, ids)}

    def apply(self, conn: Connection, snap: Snapshot, as_of: dt.date, now: dt.datetime,
              preloaded: dict[str, dict[int, Any]], writes: Deferred | None = None) -> PolicyOutcome:
        entries = list(snap.entries)
        outcome_parts: dict[str, list[Any]] = defaultdict(list)
        entries = self._calendar(conn, entries, as_of, now, outcome_parts)
        records = snap.current_records
        decisions = decide(records, as_of, self.profile, self.calendar)
        entries = self._basis(conn, snap, entries, decisions, as_of, now, outcome_parts)
        decisions = self._listed(decisions, entries)
        repaired = preloaded.get("repairs", {}).get(snap.subject_id, frozenset())
        if repaired:  # rule 5: an approved repair ends the penalty's publication
            decisions = replace(decisions, penalties=with_repairs(decisions.penalties, repaired))
        entries = self._incentive_conditions(conn, entries, decisions, now, outcome_parts)
        made = propose(conn, snap.subject, decisions, entries, self.profile, now)
        entries.extend(made)
        body = decisions.to_dict()
        sid = snap.subject_id
        repo.save_decision(conn, subject_id=sid, profile=self.profile.name, as_of=as_of, body=body, digest=digest(body),
                           subject_changed_at=snap.subject.changed_at, now=now,
                           previous=preloaded["decisions"].get(sid), known=True, writes=writes)
        standing = compute_standing(snap.key, as_of, decisions, [entry_facts(e) for e in entries], records, self.profile)
        stored = standing.body()
        version = repo.save_standing(conn, subject_id=sid, profile=self.profile.name, as_of=as_of,
                                     restricted=standing.restricted, digest=standing.digest(stored), body=stored,
                                     next_change_on=standing.next_change_on, now=now,
                                     previous=preloaded["standings"].get(sid), writes=writes)
        return PolicyOutcome(decisions, standing, entries, version, outcome_parts["expired"], outcome_parts["ended"],
                             outcome_parts["windows"], [r.uid for r in made], repaired)

    # --- 1. the calendar ------------------------------------------------------------------

    def _calendar(self, conn: Connection, entries: list[Any], day: dt.date, now: dt.datetime,
                  parts: dict[str, list[Any]]) -> list[Any]:
        out = []
        for row in entries:
            if is_final(row.list_kind, row.state):
                out.append(row)
                continue
            if is_in_force(row.list_kind, row.state) and row.expires_on is not None and row.expires_on <= day:
                row = self._step(conn, row, Action.EXPIRE, now,
                                 note=f"management period ended ({row.expires_on.isoformat()})")
                parts["expired"].append(row.uid)
            else:
                for window in flag_windows(conn, row, day, now):
                    parts["windows"].append((row.uid, window))
                    row = repo.get_entry(conn, row.uid)
            out.append(row)
        return out

    def _step(self, conn: Connection, row: Any, action: str, now: dt.datetime, note: str) -> Any:
        return apply_transition(conn, row, action, actor=SYSTEM, now=now, profile=self.profile, calendar=self.calendar,
                                argument_window_days=self.argument_window_days, note=note, by_system=True).entry

    # --- 3b. the incentive against the lists and its conditions (rule 4) ----------------------

    def _listed(self, decisions: SubjectDecisions, entries: list[Any]) -> SubjectDecisions:
        """A unit on a punishment list in force is not eligible for the incentive (condition 6)."""
        listings = [(e.list_kind, [e.uid]) for e in entries
                    if e.list_kind in PUNISHMENT_LISTS and is_in_force(e.list_kind, e.state)]
        if not listings:
            return decisions
        return replace(decisions, incentive=not_listed(decisions.incentive, listings, self.profile))

    def _incentive_conditions(self, conn: Connection, entries: list[Any], decisions: SubjectDecisions,
                              now: dt.datetime, parts: dict[str, list[Any]]) -> list[Any]:
        """A published incentive whose condition failed gets its removal notice now, without
        waiting for expiry (`001` §三(四)2(3)); a blacklist case says so, and its blacklist entry
        is proposed by the same step (rule 4)."""
        if decisions.incentive.eligible:
            return entries
        blacklist = decisions.list("blacklist")
        out = []
        for row in entries:
            if row.list_kind == "incentive" and row.state == IncentiveState.PUBLISHED:
                missing = list(decisions.incentive.missing)
                note = f"incentive conditions no longer met: {', '.join(missing)}"
                if blacklist is not None and blacklist.candidate:
                    note += "; a blacklist case: the unit is proposed for the blacklist"
                row = self._step(conn, row, Action.NOTIFY_REMOVAL, now, note=note)
                parts["incentive_removals"].append(row.uid)
            out.append(row)
        return out

    # --- 3. the basis ---------------------------------------------------------------------

    def _basis(self, conn: Connection, snap: Snapshot, entries: list[Any], decisions: SubjectDecisions,
               day: dt.date, now: dt.datetime, parts: dict[str, list[Any]]) -> list[Any]:
        by_uid = {v.uid: v for v in snap.versions}
        latest: dict[tuple[int, str], Any] = {}
        for v in snap.versions:
            key = (v.agency_id, v.source_record_id)
            if key not in latest or v.version > latest[key].version:
                latest[key] = v
        out = []
        for row in entries:
            if (row.list_kind not in PUNISHMENT_LISTS or row.origin_uid is not None or not row.record_uids
                    or is_final(row.list_kind, row.state)):
                out.append(row)
                continue
            gone = changed = 0
            for uid in row.record_uids:
                v = by_uid.get(uid)
                now_version = latest.get((v.agency_id, v.source_record_id)) if v is not None else None
                if now_version is None or now_version.status != "current":
                    gone += 1
                elif now_version.uid != uid:
                    changed += 1
            if not gone and not changed:
                out.append(row)
                continue
            if gone == len(row.record_uids):
                row = self._step(conn, row, Action.WITHDRAW_BASIS, now,
                                 note="every record behind the entry was withdrawn by its agency")
                parts["ended"].append(row.uid)
                out.append(row)
                continue
            support = self._still_met(snap, row, decisions, day)
            if support is None:
                row = self._step(conn, row, Action.WITHDRAW_BASIS, now,
                                 note="the records that remain no longer meet its case")
                parts["ended"].append(row.uid)
            elif list(support) != list(row.record_uids):
                repo.update_entry(conn, row.id, {"record_uids": list(support), "updated_at": now})
                repo.insert_event(conn, row.id, from_state=row.state, action="basis_updated", to_state=row.state,
                                  actor=SYSTEM, at=now, note="records withdrawn or corrected; the rest still meet its case",
                                  detail={"record_uids": list(support), "was": list(row.record_uids)})
                row = repo.get_entry(conn, row.uid)
            out.append(row)
        return out

    def _still_met(self, snap: Snapshot, row: Any, today: SubjectDecisions, day: dt.date) -> tuple[str, ...] | None:
        """The records that meet the entry's case now (as of the day it was made, or today),
        or None when its case no longer stands."""
        own = [c for c in (row.cases or []) if not c.startswith("implied_by:")]
        made_on = china_day(row.created_at)
        for decisions in (today, decide(snap.current_records, made_on, self.profile, self.calendar)
                          if made_on != day else None):
            if decisions is None:
                continue
            cand = decisions.list(row.list_kind)
            if cand is None or not cand.candidate:
                continue
            hits = {h.case: h for h in cand.cases}
            if own and all(c in hits for c in own):
                return tuple(dict.fromkeys(r for c in own for r in hits[c].record_ids))
            if not own and cand.implied_by:
                return cand.record_ids or tuple(row.record_uids)
        return None
