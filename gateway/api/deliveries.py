"""`GET /v1/deliveries`, `GET /v1/deliveries/{id}`, `POST /v1/deliveries/{id}:requeue`."""

from __future__ import annotations

from typing import Any

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.delivery import bulletin_store, outbox, receipt_store
from gateway.delivery.outbox import STATES
from gateway.errors import GatewayError


class UnknownState(GatewayError):
    status, slug, title = 400, "unknown-state", "Unknown delivery state"


class DeliveryNotFound(GatewayError):
    status, slug, title = 404, "delivery-not-found", "No such delivery"


class DeliveryNotRequeuable(GatewayError):
    status, slug, title = 409, "delivery-not-requeuable", "Delivery cannot be requeued"


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def delivery_summary(row) -> dict[str, Any]:  # noqa: ANN001
    return {
        "delivery_id": row.delivery_id, "bulletin_id": row.bulletin_id, "destination": row.destination,
        "state": row.state, "attempts": row.attempts, "next_attempt_at": _iso(row.next_attempt_at),
        "lease_owner": row.lease_owner, "lease_expires_at": _iso(row.lease_expires_at),
        "last_error": row.last_error, "receipt_overdue": bool(row.receipt_overdue),
        "bad_receipts": row.bad_receipts, "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "sent_at": _iso(row.sent_at), "acknowledged_at": _iso(row.acknowledged_at),
    }


def delivery_detail(conn, row) -> dict[str, Any]:  # noqa: ANN001
    body = delivery_summary(row)
    body["attempts_log"] = [
        {"attempt": a.attempt, "worker": a.worker, "started_at": _iso(a.started_at), "finished_at": _iso(a.finished_at),
         "outcome": a.outcome, "http_status": a.http_status, "error": a.error, "duration_ms": a.duration_ms}
        for a in outbox.attempts_of(conn, row.delivery_id)
    ]
    body["receipts"] = [
        {"receipt_id": r.receipt_id, "received_at": _iso(r.received_at), "verified": r.verified,
         "duplicate": r.duplicate, "duplicate_count": r.duplicate_count, "channel": r.channel, "error": r.error,
         "conflict": bool(r.conflict), "content_hash": r.content_hash}
        for r in receipt_store.receipts_of(conn, row.delivery_id)
    ]
    outcomes = {o.item_id: o for o in receipt_store.item_outcomes(conn, row.delivery_id)}
    body["items"] = [
        {"item_id": i.item_id, "record_uid": i.record_uid, "subject": i.subject, "kind": i.kind,
         "outcome": outcomes[i.item_id].status if i.item_id in outcomes else None,
         "code": outcomes[i.item_id].code if i.item_id in outcomes else None,
         "message": outcomes[i.item_id].message if i.item_id in outcomes else None}
        for i in bulletin_store.items_of(conn, row.bulletin_id)
    ]
    return body


def list_deliveries(state: str | None = None, destination: str | None = None, bulletin: str | None = None,
                    limit: int = 100, after: str | None = None):  # noqa: ANN201
    if state and state not in STATES:
        raise UnknownState(f"state must be one of {', '.join(STATES)}")
    with services().db.read() as conn:
        rows = outbox.list_deliveries(conn, state=state, destination=destination, bulletin=bulletin,
                                      limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return json_response({"items": [delivery_summary(r) for r in rows],
                          "next": rows[-1].delivery_id if more and rows else None})


def get_delivery(delivery_id: str):  # noqa: ANN201
    with services().db.read() as conn:
        row = outbox.get_delivery(conn, delivery_id)
        if row is None:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        return json_response(delivery_detail(conn, row))


def requeue_delivery(delivery_id: str):  # noqa: ANN201
    svc = services()
    with svc.db.write() as conn:
        row = outbox.get_delivery(conn, delivery_id)
        if row is None:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        previous = row.state
        state = outbox.requeue(conn, delivery_id, svc.clock.now())
    if state is None:
        raise DeliveryNotRequeuable(f"delivery {delivery_id} is {previous}; only dead, rejected or partially_rejected "
                       "deliveries are requeued", state=previous)
    return json_response({"delivery_id": delivery_id, "previous_state": previous, "state": state, "attempts": 0})


def rejected_items(agency: str | None = None, limit: int = 1000):  # noqa: ANN201
    with services().db.read() as conn:
        return json_response({"items": receipt_store.rejected_items(conn, agency, limit=limit)})
