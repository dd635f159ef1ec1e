"""The daily sweep (docs/policy.md §4-§8), run by the scheduler's `policy_sweep` job.

It does not walk every subject: each stored standing names the next day on which it may
change by itself (`standings.next_change_on`, indexed): an expiry, a removal or
reapplication window opening, a record ageing out of a lookback. The sweep puts the
subjects whose day has come into the change feed and decides them (the consumer's policy
step expires entries, flags windows and decides again), then reports what operators must
see: 双公示 records past their `publish_by` that no destination has queued or been sent,
subjects without a star in their latest rated year and those ordered to rectify.

Running it twice on a day changes nothing the second time: the first run moved every
`next_change_on` past the day.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from gateway.changes import feed
from gateway.policy import repository as repo
from gateway.policy.outcomes import SweepResult

log = logging.getLogger("gateway.policy")


def sweep(service: Any, as_of: dt.date, *, overdue: Any = None) -> SweepResult:
    """`service` is the PolicyService; `overdue(conn, as_of)` → (count, sample) reports the
    overdue 双公示 records (publication's query)."""
    result = SweepResult(as_of)
    now = service.clock.now()
    with service.db.write() as conn:
        due = feed.enqueue_due(conn, as_of, now)
    batch = service.decide_now(_due_subjects(service, as_of, due), as_of)
    for outcome in batch.results.values():
        result.expired.extend(outcome.policy.expired)
        result.basis_withdrawn.extend(outcome.policy.ended)
        for uid, window in outcome.policy.windows:
            (result.removal_windows_opened if window == "removal" else result.reapply_windows_opened).append(uid)
    result.subjects_decided = len(batch.results)
    with service.db.read() as conn:
        if overdue is not None:
            result.overdue_publications, result.overdue_sample = overdue(conn, as_of)
        result.key_monitoring, result.rectification_ordered = repo.starless_subjects(conn, service.profile.name)
    if result.overdue_publications:
        log.warning("%d 双公示 record(s) past their publication deadline on %s", result.overdue_publications, as_of)
    return result


def _due_subjects(service: Any, as_of: dt.date, enqueued: int) -> list[int]:
    if not enqueued:
        return []
    with service.db.read() as conn:
        return repo.subjects_due(conn, as_of)
