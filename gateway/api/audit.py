"""`GET /v1/audit` (operators): the audit log, filtered; `GET /v1/audit:verify`: check the chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.access import audit
from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.errors import BadRequest


def _when(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: not an ISO 8601 date or time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def list_audit(actor: str | None = None, organisation: str | None = None, subject: str | None = None,
               limit: int = 100, after: int | None = None, **window: Any) -> Any:
    try:
        since, until = _when(window.get("from"), "from"), _when(window.get("to"), "to")
    except ValueError as exc:
        raise BadRequest(f"bad time window: {exc}") from None
    svc = services()
    with svc.db.read() as conn:
        rows = audit.query(conn, actor=actor, organisation=organisation, subject=subject, since=since, until=until,
                           after=after, limit=limit, ids=svc.audit_ids)
    items = audit.entries_for(rows)
    return json_response({"items": items, "next": items[-1]["seq"] if len(items) == limit else None})


def verify_audit() -> Any:
    svc = services()
    certificates = {k.key_id: k.certificate for k in svc.keyring}
    with svc.db.read() as conn:
        result = audit.verify_with_checkpoints(conn, svc.audit_checkpoints.path, certificates)
    return json_response({
        "ok": result.ok, "checked": result.checked, "first_seq": result.first_seq, "last_seq": result.last_seq,
        "checkpoints": result.checkpoints,
        "breaks": [{"seq": b.seq, "kind": b.kind, "message": b.message} for b in result.breaks],
    })
