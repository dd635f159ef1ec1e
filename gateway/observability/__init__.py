"""Observability: what operators and their monitoring see of a running gateway.

- `queries`: the SQL behind the metrics and the console's summary (one place);
- `metrics`: `/metrics` (Prometheus text), database gauges computed at scrape time and the
  per-process API latency histogram;
- `http`: the request id (`X-Request-Id`, bound to every log line) and API latency middleware;
- `leader`: the "scheduler leader known" readiness check;
- logging itself (structlog, redaction) is `gateway.logging_setup`.

`install(services)` adds the middleware and `/metrics` as an app hook and registers the
readiness check in `gateway.api.health.READINESS_CHECKS`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

METRICS_PATH = "/metrics"


class MetricsEndpoint:
    """Answers `GET /metrics`; everything else goes on."""

    def __init__(self, app: Any, services: Any) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != METRICS_PATH:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            response = Response(status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            from starlette.concurrency import run_in_threadpool

            from gateway.observability.metrics import CONTENT_TYPE, exposition

            body = await run_in_threadpool(exposition, self.services)  # database reads: off the event loop
            response = Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)


def app_hook(app: Any, services: Any) -> None:
    from connexion.middleware import MiddlewarePosition

    from gateway.observability.http import RequestContextMiddleware

    # added first at this position, so outermost of the two: the request id covers /metrics too
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(MetricsEndpoint, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)


def _scheduler_leader(svc: Any) -> tuple[bool, str]:
    from gateway.observability.leader import readiness_check

    return readiness_check(svc)


def install(services: Any) -> None:
    from gateway.api.health import READINESS_CHECKS

    hooks = services.extras.setdefault("app_hooks", [])
    if app_hook not in hooks:
        # first, so the request id and latency wrap every other hook's middleware (console, audit)
        hooks.insert(0, app_hook)
    if not any(name == "scheduler_leader" for name, _ in READINESS_CHECKS):
        READINESS_CHECKS.append(("scheduler_leader", _scheduler_leader))
