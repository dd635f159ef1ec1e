"""`POST /v1/receipts`: a destination's signed receipt, delivered asynchronously."""

from __future__ import annotations

from connexion import request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import services
from gateway.api.problems import json_response, problem
from gateway.delivery.receipts import UnknownDelivery, accept_receipt
from gateway.signing.receipt import ReceiptInvalid, ReceiptMismatch


async def post_receipt(body=None):  # noqa: ANN001, ANN201
    # connexion hands a binary body over as `body`; read the stream only when it did not
    data = body if isinstance(body, bytes | bytearray) else (body.encode() if isinstance(body, str) else b"")
    if not data and body is None:
        data = await request.body()
    data = bytes(data)
    if not data:
        return problem(400, "empty-receipt", "Empty receipt", "the request body holds no receipt")
    svc = services()
    if "destinations" not in svc.extras:
        return problem(503, "delivery-not-configured", "Delivery is not configured",
                       "the gateway was started without destinations")
    try:
        stored = await run_in_threadpool(accept_receipt, svc, data)
    except UnknownDelivery as exc:
        return problem(404, "delivery-not-found", "No such delivery", f"the receipt names delivery {exc}, "
                       "which the gateway never made")
    except ReceiptMismatch as exc:
        return problem(422, "receipt-mismatch", "Receipt does not match the bulletin", str(exc))
    except ReceiptInvalid as exc:
        return problem(422, "receipt-invalid", "Receipt not verified", str(exc))
    return json_response({"delivery_id": stored.delivery_id, "duplicate": stored.duplicate,
                          "state": stored.state}, status=200 if stored.duplicate else 201)
