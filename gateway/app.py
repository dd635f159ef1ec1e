"""The HTTP application: connexion AsyncApp routed from `schemas/openapi.yaml` by operationId.

Every middleware is added here, explicitly, outermost first: request context (request id,
latency by route), body limit, request timeout, JSON depth and number limits, CORS (when configured), `/metrics`, the
console, then connexion's own stack (exception handling, routing, the audit recorder,
security, validation) and the handler. Every error a handler or the framework raises is
answered by one handler, as problem JSON (`gateway.errors`).
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging
import re
from functools import lru_cache

import yaml
from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from gateway.access import authz
from gateway.access.authn import MISSING_DETAIL, challenge
from gateway.access.recorder import AuditMiddleware
from gateway.api import deps
from gateway.api.jsonlimits import JsonLimitMiddleware
from gateway.api.limits import BodyLimitMiddleware
from gateway.api.problems import problem_response
from gateway.api.timeouts import TimeoutMiddleware
from gateway.bootstrap import Services
from gateway.console.web import ConsoleMiddleware
from gateway.errors import FRAMEWORK_STATUS, BadRequest, GatewayError, InternalError, RequestError
from gateway.observability.http import RequestContextMiddleware, RouteLabelMiddleware
from gateway.observability.metrics import MetricsEndpoint
from gateway.paths import OPENAPI

log = logging.getLogger(__name__)


def _on_gateway_error(request, exc: GatewayError):  # noqa: ANN001
    return problem_response(exc)


def _on_connexion_problem(request, exc: ProblemException):  # noqa: ANN001
    cls = FRAMEWORK_STATUS.get(exc.status, RequestError)
    if exc.status == 401 and not any(k.lower() == "www-authenticate" for k in (exc.headers or {})):
        # connexion's own 401 (no credential presented at all): say how to authenticate
        return problem_response(cls(MISSING_DETAIL, headers=challenge(), reason="credentials_missing"))
    error = cls(exc.detail or exc.title, headers=dict(exc.headers or {}))
    if error.status != exc.status:  # a framework status without its own type keeps its status
        error.status = exc.status  # type: ignore[misc]
    return problem_response(error)


@functools.cache
def _path_methods() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """Each path of the spec as a pattern, with the methods it documents."""
    from gateway.access.authz import spec_rules

    by_path: dict[str, set[str]] = {}
    for rule in spec_rules().values():
        by_path.setdefault(rule.path, set()).add(rule.method)
    out = []
    for path, methods in by_path.items():
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                          for part in re.split(r"(\{[^}]+\})", path))
        if "GET" in methods:
            methods.add("HEAD")
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        out.append((literal, re.compile(pattern + "$"), tuple(sorted(methods))))
    # the most specific first: /v1/deliveries/{id}:requeue before /v1/deliveries/{id}
    return tuple((pattern, methods) for _, pattern, methods in sorted(out, key=lambda x: -x[0]))


def allowed_methods(path: str) -> str | None:
    """The `Allow` of a 405: every method the spec documents for the path. Starlette names only
    the methods of the first route that matched the path, and connexion adds one route per
    operation, so `GET, HEAD` came back for a path that also takes DELETE or POST."""
    for pattern, methods in _path_methods():
        if pattern.match(path):
            return ", ".join(methods)
    return None


def _on_http_exception(request, exc: HTTPException):  # noqa: ANN001
    # Starlette's own answers (no route matched the path, say, when it holds a newline) in the
    # gateway's problem types, as every other answer
    cls = FRAMEWORK_STATUS.get(exc.status_code, RequestError)
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allow := allowed_methods(request.url.path)):
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"} | {"Allow": allow}
    error = cls(exc.detail or "", headers=headers)
    if error.status != exc.status_code:
        error.status = exc.status_code  # type: ignore[misc]
    return problem_response(error)


def _on_undecodable(request, exc: UnicodeDecodeError):  # noqa: ANN001
    return problem_response(BadRequest("the body is not valid UTF-8"))


def _on_unencodable(request, exc: UnicodeEncodeError):  # noqa: ANN001
    # JSON may escape a lone surrogate ("\ud800"), which is no Unicode text: nothing stores it
    return problem_response(BadRequest("the body holds text that is not valid Unicode (a lone surrogate)"))


def _on_statement_error(request, exc: StatementError):  # noqa: ANN001
    # PostgreSQL text cannot hold NUL; JSON can ("\u0000"): refuse it as bad input, as SQLite
    # would store it and PostgreSQL would not
    if "NUL (0x00)" in str(exc.orig):
        return problem_response(BadRequest("the body holds a NUL character, which no field may contain"))
    return _on_unexpected(request, exc)


def _on_unexpected(request, exc: Exception):  # noqa: ANN001
    log.error("unhandled error on %s", getattr(request, "url", "?"), exc_info=exc)
    return problem_response(InternalError("the gateway failed; the error was logged"))


@lru_cache(maxsize=4)
def _parsed_spec(path: str, mtime_ns: int) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x the pure-Python parser
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader


def load_spec() -> dict:
    """The OpenAPI document, parsed once per process (and again when the file changes)."""
    return copy.deepcopy(_parsed_spec(str(OPENAPI), OPENAPI.stat().st_mtime_ns))


def pin_signatures(spec: dict) -> int:
    """Give every handler and security function named by the spec a precomputed `__signature__`.

    connexion inspects the signature of the handler and of the security function on every
    request (`connexion.utils.inspect_function_arguments`); `inspect.signature` returns a
    function's `__signature__` at once when it has one (docs/notes.md)."""
    names = {op["operationId"] for item in spec.get("paths", {}).values() for op in item.values()
             if isinstance(op, dict) and op.get("operationId")}
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        names.update(v for k, v in scheme.items() if k.startswith("x-") and k.endswith("InfoFunc"))
    pinned = 0
    for name in names:
        module, _, attr = name.rpartition(".")
        fn = getattr(importlib.import_module(module), attr, None)
        if callable(fn) and not hasattr(fn, "__signature__"):
            fn.__signature__ = inspect.signature(fn)
            pinned += 1
    return pinned


def create_app(services: Services) -> AsyncApp:
    deps.install(services)
    spec = load_spec()
    pin_signatures(spec)
    authz.spec_rules()  # the access rules read now, not on the first authenticated request
    app = AsyncApp(__name__, specification_dir=str(OPENAPI.parent))
    app.add_api(
        spec,
        strict_validation=True,
        validate_responses=False,
        pythonic_params=False,
        # Swagger UI (connexion's `swagger-ui` extra) at /docs/, the spec at /openapi.json
        swagger_ui_options=SwaggerUIOptions(swagger_ui=True, serve_spec=True, swagger_ui_path="/docs"),
    )
    app.add_error_handler(GatewayError, _on_gateway_error)
    app.add_error_handler(ProblemException, _on_connexion_problem)
    app.add_error_handler(HTTPException, _on_http_exception)
    app.add_error_handler(UnicodeDecodeError, _on_undecodable)
    app.add_error_handler(UnicodeEncodeError, _on_unencodable)
    app.add_error_handler(StatementError, _on_statement_error)
    app.add_error_handler(Exception, _on_unexpected)
    # at one position, the middleware added first is outermost
    app.add_middleware(RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(BodyLimitMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       max_bytes=services.settings.max_body_bytes)
    app.add_middleware(TimeoutMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       seconds=services.settings.request_timeout_seconds)
    app.add_middleware(JsonLimitMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       max_depth=services.settings.json_max_depth,
                       max_digits=services.settings.json_max_number_digits)
    if services.settings.cors_origins:
        app.add_middleware(CORSMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                           allow_origins=services.settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    app.add_middleware(MetricsEndpoint, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    app.add_middleware(ConsoleMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)
    app.add_middleware(RouteLabelMiddleware, position=MiddlewarePosition.BEFORE_SECURITY)
    app.add_middleware(AuditMiddleware, position=MiddlewarePosition.BEFORE_SECURITY, services=services)
    return app
