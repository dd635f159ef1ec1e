"""The HTTP application: connexion AsyncApp routed from `schemas/openapi.yaml` by operationId."""

from __future__ import annotations

import copy
import logging
from functools import lru_cache

import yaml
from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from sqlalchemy.exc import StatementError
from starlette.middleware.cors import CORSMiddleware

from gateway.api import deps
from gateway.api.limits import BodyLimitMiddleware
from gateway.api.problems import ApiProblem, problem
from gateway.api.timeouts import TimeoutMiddleware
from gateway.bootstrap import Services
from gateway.paths import OPENAPI

log = logging.getLogger(__name__)


def _on_api_problem(request, exc: ApiProblem):  # noqa: ANN001
    return exc.response()


def _on_connexion_problem(request, exc: ProblemException):  # noqa: ANN001
    slug = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
            406: "not-acceptable", 415: "unsupported-media-type"}.get(exc.status, "request-error")
    return problem(exc.status, slug, exc.title or "Request error", exc.detail, headers=dict(exc.headers or {}))


def _on_undecodable(request, exc: UnicodeDecodeError):  # noqa: ANN001
    return problem(400, "bad-request", "Bad request", "the body is not valid UTF-8")


def _on_unencodable(request, exc: UnicodeEncodeError):  # noqa: ANN001
    # JSON may escape a lone surrogate ("\ud800"), which is no Unicode text: nothing stores it
    return problem(400, "bad-request", "Bad request", "the body holds text that is not valid Unicode (a lone surrogate)")


def _on_statement_error(request, exc: StatementError):  # noqa: ANN001
    # PostgreSQL text cannot hold NUL; JSON can ("\u0000"): refuse it as bad input, as SQLite
    # would store it and PostgreSQL would not
    if "NUL (0x00)" in str(exc.orig):
        return problem(400, "bad-request", "Bad request", "the body holds a NUL character, which no field may contain")
    return _on_unexpected(request, exc)


def _on_unexpected(request, exc: Exception):  # noqa: ANN001
    log.error("unhandled error on %s", getattr(request, "url", "?"), exc_info=exc)
    return problem(500, "internal-error", "Internal error", "the gateway failed; the error was logged")


@lru_cache(maxsize=4)
def _parsed_spec(path: str, mtime_ns: int) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x the pure-Python parser
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader


def load_spec() -> dict:
    """The OpenAPI document, parsed once per process (and again when the file changes)."""
    return copy.deepcopy(_parsed_spec(str(OPENAPI), OPENAPI.stat().st_mtime_ns))


def create_app(services: Services) -> AsyncApp:
    deps.install(services)
    app = AsyncApp(__name__, specification_dir=str(OPENAPI.parent))
    app.add_api(
        load_spec(),
        strict_validation=True,
        validate_responses=False,
        pythonic_params=False,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=True),
    )
    app.add_error_handler(ApiProblem, _on_api_problem)
    app.add_error_handler(ProblemException, _on_connexion_problem)
    app.add_error_handler(UnicodeDecodeError, _on_undecodable)
    app.add_error_handler(UnicodeEncodeError, _on_unencodable)
    app.add_error_handler(StatementError, _on_statement_error)
    app.add_error_handler(Exception, _on_unexpected)
    app.add_middleware(BodyLimitMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       max_bytes=services.settings.max_body_bytes)
    app.add_middleware(TimeoutMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                       seconds=services.settings.request_timeout_seconds)
    if services.settings.cors_origins:
        app.add_middleware(CORSMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION,
                           allow_origins=services.settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"])
    for hook in services.extras.get("app_hooks", []):
        hook(app, services)
    return app
