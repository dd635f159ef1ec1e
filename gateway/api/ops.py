"""`GET /v1/ops/summary`: what the operators' console shows in one answer.

Queues by destination and state, dead letters, receipts overdue, rejected items per source
agency, 双公示 records near or past `publish_by` with the on-time rate per agency, list
entries awaiting an operator, certificates, breakers and the scheduler leader. Read-only:
acting (requeue, transitions) goes through the audited endpoints of each resource.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.observability import queries
from gateway.observability.leader import scheduler_leader


def plain(value: Any) -> Any:
    """JSON-ready: datetimes and dates as ISO 8601, containers recursively."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def build_summary(svc: Any, limit: int = 100) -> dict[str, Any]:
    now = svc.clock.now()
    with svc.db.read() as conn:
        body: dict[str, Any] = {
            "generated_at": now,
            "queues": queries.queues(conn, now),
            "dead_letters": queries.dead_letters(conn, limit),
            "receipts_overdue": queries.awaiting_receipts(conn, now, queries.receipt_timeouts(svc), limit),
            "rejected_by_agency": queries.rejected_by_agency(conn),
            "publication": queries.publication(conn, now, limit=limit),
            "breakers": queries.breakers(conn),
        }
    body["list_entries_awaiting"] = queries.awaiting_action(svc, limit)
    body["certificates"] = queries.certificates(svc, now)
    try:
        known, detail = scheduler_leader(svc)
    except Exception as exc:  # noqa: BLE001 - the summary still answers without it
        known, detail = False, type(exc).__name__
    body["scheduler"] = {"leader_known": known, "detail": detail}
    return plain(body)


def get_summary(limit: int = 100) -> Any:
    return json_response(build_summary(services(), limit))
