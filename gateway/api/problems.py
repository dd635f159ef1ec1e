"""RFC 9457 problem responses (docs/architecture.md: errors are part of the API).

Handlers raise a `gateway.errors.GatewayError` subclass; the one handler in `gateway.app`
answers with `problem_response(exc)`. `json_response` is the explicit JSON answer (operations
also declare problem+json responses, so connexion cannot guess the media type).
"""

from __future__ import annotations

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.errors import GatewayError

PROBLEM = "application/problem+json"


def problem_response(exc: GatewayError, headers: dict[str, str] | None = None) -> ConnexionResponse:
    body = json.dumps(exc.body(), ensure_ascii=False, default=str)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        # the problem quotes input holding a lone surrogate (JSON can escape one, "\ud800"),
        # which is no Unicode text at all: that input is the problem
        from gateway.errors import BadRequest

        exc = BadRequest("the body holds text that is not valid Unicode (a lone surrogate)")
        body = json.dumps(exc.body(), ensure_ascii=False)
    return ConnexionResponse(
        status_code=exc.status,
        mimetype=PROBLEM,
        content_type=PROBLEM,
        body=body,
        headers={**exc.headers, **(headers or {})},
    )


def problem_bytes(exc: GatewayError) -> bytes:
    """The body of a problem answered below the framework (ASGI middleware)."""
    return json.dumps(exc.body(), ensure_ascii=False, default=str).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False, default=str),
        headers=headers or {},
    )
