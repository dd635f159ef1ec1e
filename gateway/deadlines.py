"""The deadline of the request being served (GATEWAY_REQUEST_TIMEOUT_SECONDS).

The request-timeout middleware answers 503 when a request has not started its answer in
time; a synchronous handler keeps running in its worker thread. A use case that writes
(intake) calls `check()` just before it commits: past the deadline it raises
`RequestTimeout`, its transaction rolls back, and the 503 the client already has is true:
nothing of the request was stored. The deadline travels in a context variable, which the
worker threads of Starlette and asyncio copy; outside a request there is none.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar, Token

from gateway.errors import RequestTimeout

log = logging.getLogger("gateway.deadlines")
_deadline: ContextVar[float | None] = ContextVar("gateway_request_deadline", default=None)


def start(seconds: float) -> Token:
    return _deadline.set(time.monotonic() + seconds)


def reset(token: Token) -> None:
    _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left for the request being served (negative once past), or None outside one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def check(what: str) -> None:
    """Raise `RequestTimeout` when the request's deadline has passed (before a commit)."""
    left = remaining()
    if left is not None and left <= 0:
        # the client has its 503 already: this line is where an operator reads what happened
        log.warning("request past its deadline by %.1f s: %s", -left, what)
        raise RequestTimeout(f"the request ran past its deadline; {what}")
