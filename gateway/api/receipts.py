"""`POST /v1/receipts`: a destination's signed receipt, delivered asynchronously; and what
operators see of receipts that did not count (`GET /v1/receipts/refused`, `/v1/receipts/conflicts`)."""

from __future__ import annotations

from connexion import request
from starlette.concurrency import run_in_threadpool

from gateway.api.credit import principal
from gateway.api.deliveries import DeliveryNotFound
from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.delivery import refused_store as refused
from gateway.delivery.receipts import ReceiptNotYours, UnknownDelivery, accept_receipt
from gateway.errors import GatewayError
from gateway.observability.summary import plain
from gateway.signing.receipt import ReceiptInvalid, ReceiptMismatch


class EmptyReceipt(GatewayError):
    status, slug, title = 400, "empty-receipt", "Empty receipt"


class ReceiptRefused(GatewayError):
    status, slug, title = 422, "receipt-invalid", "Receipt not verified"


class ReceiptNotMatching(GatewayError):
    status, slug, title = 422, "receipt-mismatch", "Receipt does not match the bulletin"


class NotTheDestination(GatewayError):
    status, slug, title = 403, "receipt-not-yours", "Not the destination's credential"


async def post_receipt(body=None):  # noqa: ANN001, ANN201
    # connexion hands a binary body over as `body`; read the stream only when it did not
    data = body if isinstance(body, bytes | bytearray) else (body.encode() if isinstance(body, str) else b"")
    if not data and body is None:
        data = await request.body()
    data = bytes(data)
    if not data:
        raise EmptyReceipt("the request body holds no receipt")
    svc = services()
    who = principal()
    poster = refused.Poster(who.key_id, who.organisation)
    try:
        stored = await run_in_threadpool(accept_receipt, svc.db, svc.destinations, data, svc.clock.now(),
                                         poster=poster)
    except UnknownDelivery as exc:
        raise DeliveryNotFound(f"the receipt names delivery {exc}, which the gateway never made") from None
    except ReceiptNotYours as exc:
        raise NotTheDestination(str(exc)) from None
    except ReceiptMismatch as exc:
        raise ReceiptNotMatching(str(exc)) from None
    except ReceiptInvalid as exc:
        raise ReceiptRefused(str(exc)) from None
    return json_response({"delivery_id": stored.delivery_id, "duplicate": stored.duplicate,
                          "state": stored.state}, status=200 if stored.duplicate else 201)


def list_refused(limit: int = 100, delivery_id: str | None = None, reason: str | None = None):  # noqa: ANN201
    with services().db.read() as conn:
        rows = refused.refused(conn, limit=limit, delivery_id=delivery_id, reason=reason)
    return json_response({"items": plain(rows)})


def list_conflicts(limit: int = 100):  # noqa: ANN201
    with services().db.read() as conn:
        rows = refused.conflicts(conn, limit=limit)
    return json_response({"items": plain(rows)})
