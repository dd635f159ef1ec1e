"""ASGI middleware for every request: a request id, bound to the log context, and the API
latency histogram labelled by route template.

- `X-Request-Id`: taken from the request when well-formed (a proxy's or a client's), else a
  fresh one; written back into the request headers (so the audit log records the same id)
  and onto the response; bound as `request_id` for every log line of the request.
- one log line per request (method, path, query, route, status, duration), redacted;
- latency: labelled with the OpenAPI path template of the operation connexion routed to
  (`/v1/deliveries/{delivery_id}`), never the raw path; `/console…`, `/docs…` and `/metrics`
  get their own labels, anything else `unmatched`.

connexion's routing middleware records the operation on a *copy* of the ASGI scope (under a
real server the outer scope never sees it; docs/notes.md), so `RouteLabelMiddleware`, placed
after routing, writes the operation id into a holder the outer middleware left on the scope
(a shallow copy shares it).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from functools import cache
from typing import Any

import structlog
import yaml

from gateway.observability.metrics import API_LATENCY
from gateway.paths import OPENAPI

log = logging.getLogger("gateway.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@cache
def route_templates() -> dict[str, str]:
    """operationId → path template, from the spec the API is routed by."""
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in _METHODS:
            op = (item or {}).get(method)
            if isinstance(op, dict) and op.get("operationId"):
                found[op["operationId"]] = path
    return found


_HOLDER = "gateway.route"


def route_of(scope: dict[str, Any]) -> str:
    routing = scope.get("extensions", {}).get("connexion_routing") or {}
    operation_id = (scope.get(_HOLDER) or {}).get("operation_id") or routing.get("operation_id") or ""
    template = route_templates().get(operation_id)
    if template:
        return template
    path = scope.get("path", "")
    if path == "/metrics":
        return "/metrics"
    if path == "/console" or path.startswith("/console/"):
        return "/console/api" if path.startswith("/console/api/") else "/console"
    if path == "/docs" or path.startswith("/docs/") or path == "/openapi.json":
        return "/docs"
    return "unmatched"


class RouteLabelMiddleware:
    """After connexion's routing: note the routed operation where `RequestContextMiddleware` reads it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        holder = scope.get(_HOLDER)
        if holder is not None:
            routing = scope.get("extensions", {}).get("connexion_routing") or {}
            holder["operation_id"] = routing.get("operation_id")
        await self.app(scope, receive, send)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Request id, log context and API latency (outermost of the gateway's own middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        if given != request_id:
            scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"x-request-id"]
            scope["headers"].append((b"x-request-id", request_id.encode()))
        status = {"code": 500}
        scope[_HOLDER] = {}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                took = time.perf_counter() - started
                route = route_of(scope)
                API_LATENCY.labels(route, scope.get("method", "?"), f"{status['code'] // 100}xx").observe(took)
                if route != "/metrics" and log.isEnabledFor(logging.INFO):  # one line per request (paths masked)
                    log.info("request", extra={"method": scope.get("method"), "path": scope.get("path"),
                                               "query": scope.get("query_string", b"").decode("latin-1"),
                                               "route": route, "status": status["code"],
                                               "duration_ms": round(took * 1000, 1)})
