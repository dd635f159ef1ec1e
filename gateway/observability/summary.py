"""What operators watch, assembled from each capability's own queries (this module has no SQL):
the console's summary (`GET /v1/ops/summary`), certificates, receipt timeouts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.changes import feed
from gateway.delivery import breaker_store, reports
from gateway.delivery import refused_store as refused
from gateway.domain.policy.lifecycle import Action, EntryState, IncentiveState, states_allowing
from gateway.observability.leader import scheduler_leader
from gateway.publication import repository as publication_repo

# list entry states that wait for an operator, and what they wait for
AWAITING = {
    EntryState.PROPOSED: "notify the subject (告知书)",
    EntryState.NOTIFIED: "confirm or drop once the argument deadline has passed",
    EntryState.CONFIRMED: "publish",
    EntryState.OBJECTION: "decide the objection: reject it, correct the listing or annul it (异议)",
    EntryState.REMOVAL_REQUESTED: "remove (信用修复)",
    IncentiveState.APPLIED: "review the incentive application",
    IncentiveState.REVIEWED: "publish the incentive entry",
}


def plain(value: Any) -> Any:
    """JSON-ready: datetimes and dates as ISO 8601, containers recursively."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _breakers(conn: Any) -> list[dict[str, Any]]:
    return [{"destination": r.destination, "state": r.state, "consecutive_failures": r.consecutive_failures,
             "opened_at": r.opened_at, "probe_at": r.probe_at, "last_error": r.last_error, "updated_at": r.updated_at}
            for r in breaker_store.rows(conn)]


def build_summary(svc: Any, limit: int = 100) -> dict[str, Any]:
    now = svc.clock.now()
    with svc.db.read() as conn:
        st = feed.stats(conn, now)
        body: dict[str, Any] = {
            "generated_at": now,
            "queues": reports.queues(conn, now),
            "dead_letters": reports.dead_letters(conn, limit),
            "receipts_overdue": reports.awaiting_receipts(conn, now, receipt_timeouts(svc), limit),
            "receipts_refused": {"last_24h": refused.refused_counts(conn, now - dt.timedelta(days=1)),
                                 "latest": refused.refused(conn, limit=min(limit, 20))},
            "receipt_conflicts": refused.conflicts(conn, limit=limit),
            "rejected_by_agency": reports.rejected_by_agency(conn),
            "publication": publication_repo.timeliness(conn, now, limit=limit),
            "publication_queue": publication_repo.item_counts(conn),
            "publication_quarantine": publication_repo.quarantined(conn, limit),
            "breakers": _breakers(conn),
            "change_feed": {"pending": st.pending, "oldest_pending_age_seconds": st.oldest_age(now),
                            "quarantined": st.quarantined, "leased": st.leased,
                            "quarantined_subjects": feed.list_changes(conn, state=feed.QUARANTINED, limit=limit)},
        }
    body["list_entries_awaiting"] = awaiting_action(svc, limit)
    body["certificates"] = certificates(svc, now)
    try:
        known, detail = scheduler_leader(svc)
    except Exception as exc:  # noqa: BLE001 - the summary still answers without it
        known, detail = False, type(exc).__name__
    body["scheduler"] = {"leader_known": known, "detail": detail}
    return plain(body)


def awaiting_action(svc: Any, limit: int = 100) -> list[dict[str, Any]]:
    """Open list entries waiting for an operator (notice, confirmation, publication, objection,
    removal window), each with its allowed actions, via the policy service's own view."""
    policy = svc.policy
    today = policy.today()
    found: list[dict[str, Any]] = []
    for state, why in AWAITING.items():
        items, _ = policy.entries(state=state.value, limit=limit)
        for item in items:
            item = dict(item)
            item["awaiting"] = why
            if state is EntryState.NOTIFIED and item.get("argument_deadline"):
                item["argument_window_open"] = dt.date.fromisoformat(item["argument_deadline"]) >= today
            found.append(item)
    # entries in force whose removal window the calendar opened
    for state in states_allowing(Action.REQUEST_REMOVAL):
        items, _ = policy.entries(state=state, limit=limit)
        for item in items:
            if item.get("removal_window_flagged_on"):
                found.append({**item, "awaiting": "removal window open: the subject may ask for removal"})
    found.sort(key=lambda e: e.get("created_at") or "")
    return found[:limit]


def certificates(svc: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """Signing certificates and the destinations' pinned certificates."""
    found: list[dict[str, Any]] = []
    try:
        keyring = svc.keyring
    except Exception:  # noqa: BLE001 - no keys installed: nothing to report
        keyring = None
    if keyring is not None:
        active = keyring.active.key_id if len(keyring) else None
        for key in keyring:
            found.append({"kind": "signing", "key_id": key.key_id, "subject": key.subject,
                          "not_after": key.not_after, "days_left": _days_left(key.not_after, now),
                          "active": key.key_id == active})
    registry = svc.destinations
    for name in registry.names():
        try:
            trust = registry.trust(name)
        except Exception:  # noqa: BLE001 - misconfigured trust is reported by /readyz, not here
            continue
        for cert in (*trust.pinned, *trust.anchors):
            not_after = cert.not_valid_after_utc
            found.append({"kind": "destination", "key_id": name, "subject": cert.subject.rfc4514_string(),
                          "not_after": not_after, "days_left": _days_left(not_after, now), "active": True})
    return found


def _days_left(not_after: dt.datetime, now: dt.datetime) -> int:
    return int((not_after - now).total_seconds() // 86400)


def receipt_timeouts(svc: Any) -> dict[str, float]:
    registry = svc.destinations
    return {n: float(registry.get(n).receipt_timeout_seconds) for n in registry.names(enabled_only=False)}
