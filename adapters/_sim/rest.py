"""The REST shape both HTTP simulators share (信用中国 and the bureau webhooks):

    POST {push_path}               authenticate → verify and apply once → 200 + receipt | 202
    GET  {receipt_prefix}{id}      authenticate → 200 + receipt | 202 (pending) | 404 (unknown)

Authentication is the caller's (`authenticate` returns an error message or None): HMAC
request signing for 信用中国, the webhook signature for bureaus. With asynchronous receipts
and a `callback_url` (the gateway's `POST /v1/receipts`), the receipt is also posted there
once ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from adapters._sim.http import post_receipt_later, read_body, render_json, respond
from adapters._sim.receiver import Receiver
from gateway.delivery.port import DELIVERY_ID_HEADER

Authenticate = Callable[[str, str, dict[str, str], bytes, str], str | None]


class RestSimulatorApp:
    def __init__(self, receiver: Receiver, authenticate: Authenticate, *, push_path: str, receipt_prefix: str,
                 callback_url: str | None = None, callback_token: str | None = None) -> None:
        self.receiver = receiver
        self.authenticate = authenticate
        self.push_path = push_path
        self.receipt_prefix = receipt_prefix
        self.callback_url = callback_url
        self.callback_token = callback_token
        self._tasks: set[asyncio.Task] = set()

    async def _problem(self, send, status: int, code: str, message: str) -> None:  # noqa: ANN001
        ctype, body = render_json(status, code, message, None)
        await respond(send, status, body, ctype)

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        method, path = scope["method"], scope["path"]
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if method == "POST" and path == self.push_path:
            delivery_id = headers.get(DELIVERY_ID_HEADER.lower(), "")
            error = self.authenticate(method, path, headers, body, delivery_id)
            if error:
                self.receiver.stats["unauthorised"] += 1
                return await self._problem(send, 401, "E_AUTH", error)
            result = self.receiver.accept(delivery_id, body)
            if result.outcome == "invalid":
                return await self._problem(send, 400, "E_BULLETIN", result.error or "invalid")
            if result.receipt is None:
                if result.outcome == "applied" and self.callback_url:
                    self._post_later(delivery_id)
                return await respond(send, 202, b'{"status": "queued"}', "application/json")
            return await respond(send, 200, self.receiver.answer_receipt(result.receipt), "application/xml")
        if method == "GET" and path.startswith(self.receipt_prefix):
            delivery_id = path.removeprefix(self.receipt_prefix)
            error = self.authenticate(method, path, headers, body, delivery_id)
            if error:
                self.receiver.stats["unauthorised"] += 1
                return await self._problem(send, 401, "E_AUTH", error)
            state, receipt = self.receiver.receipt_for(delivery_id)
            if state == "found":
                return await respond(send, 200, self.receiver.answer_receipt(receipt), "application/xml")
            if state == "pending":
                return await respond(send, 202, b'{"status": "pending"}', "application/json")
            return await self._problem(send, 404, "E_UNKNOWN_DELIVERY", f"no delivery {delivery_id}")
        return await self._problem(send, 404, "E_NOT_FOUND", f"{method} {path}")

    def _post_later(self, delivery_id: str) -> None:
        applied = self.receiver.store.get(delivery_id)
        if applied is None:
            return

        def done(status: int | None) -> None:
            if status is not None and status < 300:
                self.receiver.stats["receipts_posted"] += 1

        task = asyncio.get_running_loop().create_task(post_receipt_later(
            self.callback_url, self.receiver.answer_receipt(applied.receipt), self.receiver.receipt_delay, done,
            self.callback_token))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
