"""ASGI middleware: a request that has not started its answer within
`request_timeout_seconds` (GATEWAY_REQUEST_TIMEOUT_SECONDS, 30 s) gets 503 problem JSON
`request-timeout` with `Retry-After`, and its handler task is cancelled.

Only the time to the first byte is bounded: once the response has started (a large
evidence bundle streaming to a slow client) it runs to the end. A synchronous handler
runs in a worker thread that cannot be interrupted; its late answer is dropped. A write
that would commit after the deadline rolls back instead (`gateway.deadlines.check`), so a
503 from an upload means nothing of it was stored.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway import deadlines
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
        started = False
        deadline: asyncio.Timeout | None = None

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                if deadline is not None:
                    deadline.reschedule(None)  # answering: the rest runs to its end
            await send(message)

        # the same task, a deadline on it (no task per request); the same deadline for the
        # handler's worker thread, which a write checks before it commits (gateway.deadlines)
        token = deadlines.start(self.seconds)
        try:
            async with asyncio.timeout(self.seconds) as deadline:
                await self.app(scope, receive, guarded_send)
        except TimeoutError:
            if started:
                raise
            log.warning("request timed out after %.1f s: %s %s", self.seconds, scope.get("method"), scope.get("path"))
            await self._reject(send)
        finally:
            deadlines.reset(token)

    async def _reject(self, send: Any) -> None:
        body = problem_bytes(RequestTimeout(f"no answer within {self.seconds:g} s; retry later"))
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", b"5")]})
        await send({"type": "http.response.body", "body": body})
