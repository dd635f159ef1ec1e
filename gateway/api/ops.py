"""`GET /v1/ops/summary`: what the operators' console shows in one answer.

Queues by destination and state, dead letters, receipts overdue, rejected items per source
agency, 双公示 records near or past `publish_by` with the on-time rate per agency, the change
feed (pending, oldest, quarantined subjects), publication items pending and quarantined,
list entries awaiting an operator, certificates, breakers and the scheduler leader.
Read-only: acting (requeue, transitions, retries) goes through the audited endpoints.
"""

from __future__ import annotations

from typing import Any

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.observability.summary import build_summary


def get_summary(limit: int = 100) -> Any:
    return json_response(build_summary(services(), limit))
