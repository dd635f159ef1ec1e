"""The daily sweep of list entries (RULES.md §4-§8), run by the scheduler's `policy_sweep` job.

- entries whose management period ended are expired (action `expire`, actor `system`);
- a removal window (municipal: 30 working days before expiry; national: 12 months after the
  start) or an incentive reapplication window (3 months before expiry) that opened is flagged
  once, on the entry and as a `window_opened` event;
- 双公示 records past their `publish_by` that no destination has queued or been sent are
  counted (the first ones named); subjects without a star in their latest rated year, and
  those ordered to rectify after consecutive star-less years, are named from the decisions.

Every change is guarded (a state transition, a flag set only while NULL), so running the
sweep twice on a day changes nothing the second time, even from two processes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from gateway.domain.policy.lifecycle import IllegalTransition
from gateway.policy_outcomes import SYSTEM, EntryNotFound, SweepResult
from gateway.policy_repo import (
    entries_to_expire,
    insert_event,
    overdue_publications,
    reapply_windows_opening,
    removal_windows_opening,
    starless_subjects,
    update_entry,
)

if TYPE_CHECKING:
    from gateway.policy_service import PolicyService

log = logging.getLogger("gateway.policy")


def sweep(service: PolicyService, as_of: dt.date) -> SweepResult:
    result = SweepResult(as_of)
    with service.db.read() as conn:
        due = entries_to_expire(conn, as_of)
    for uid in due:
        try:
            service.transition(uid, "expire", SYSTEM, note=f"management period ended ({as_of.isoformat()})")
        except (IllegalTransition, EntryNotFound):  # changed meanwhile by someone else
            continue
        result.expired.append(uid)
    now = service.clock.now()
    with service.db.write() as conn:
        for row in removal_windows_opening(conn, as_of):
            if update_entry(conn, row.id, {"removal_window_flagged_on": as_of, "updated_at": now},
                            unless_set="removal_window_flagged_on"):
                opens = min(d for d in (row.removal_window_opens_on, row.early_removal_from) if d is not None)
                insert_event(conn, row.id, from_state=row.state, action="window_opened", to_state=row.state,
                             actor=SYSTEM, at=now, note=f"removal may be applied for from {opens.isoformat()}",
                             detail={"window": "removal", "opens_on": opens.isoformat()})
                result.removal_windows_opened.append(row.uid)
        for row in reapply_windows_opening(conn, as_of):
            if update_entry(conn, row.id, {"reapply_window_flagged_on": as_of, "updated_at": now},
                            unless_set="reapply_window_flagged_on"):
                insert_event(conn, row.id, from_state=row.state, action="window_opened", to_state=row.state,
                             actor=SYSTEM, at=now, note=f"reapplication open from {row.reapply_from.isoformat()}",
                             detail={"window": "reapply", "opens_on": row.reapply_from.isoformat()})
                result.reapply_windows_opened.append(row.uid)
    with service.db.read() as conn:
        result.overdue_publications, result.overdue_sample = overdue_publications(conn, as_of)
        result.key_monitoring, result.rectification_ordered = starless_subjects(conn, service.profile().name)
    if result.overdue_publications:
        log.warning("%d 双公示 record(s) past their publication deadline on %s", result.overdue_publications, as_of)
    return result
