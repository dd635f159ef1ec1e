"""ASGI middleware: a request that has not started its answer within
`request_timeout_seconds` (GATEWAY_REQUEST_TIMEOUT_SECONDS, 30 s) gets 503 problem JSON
`request-timeout` with `Retry-After`, and its handler task is cancelled.

Only the time to the first byte is bounded: once the response has started (a large
evidence bundle streaming to a slow client) it runs to the end. A synchronous handler
runs in a worker thread that cannot be interrupted; its transaction finishes or rolls back
on its own, and its late answer is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from gateway.api.problems import PROBLEM, problem_bytes
from gateway.errors import RequestTimeout

log = logging.getLogger(__name__)


class TimeoutMiddleware:
    def __init__(self, app: Any, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.seconds:
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()
        timed_out = False

        async def guarded_send(message: dict[str, Any]) -> None:
            if timed_out:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        waiter = asyncio.ensure_future(started.wait())
        try:
            done, _ = await asyncio.wait({task, waiter}, timeout=self.seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not done:
            timed_out = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            log.warning("request timed out after %.1f s: %s %s", self.seconds, scope.get("method"), scope.get("path"))
            await self._reject(send)
            return
        await task  # finished, or started answering: let it run to the end (re-raises its error)

    async def _reject(self, send: Any) -> None:
        body = problem_bytes(RequestTimeout(f"no answer within {self.seconds:g} s; retry later"))
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", b"5")]})
        await send({"type": "http.response.body", "body": body})
