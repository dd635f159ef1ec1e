"""The one error base (docs/architecture.md: errors are part of the API).

Every error a client can get is a subclass of `GatewayError` with a stable problem type
(`urn:gateway:problem:<slug>`), a title and an HTTP status; an instance carries the detail
and any extra members of the problem (RFC 9457). One handler (`gateway.app`) turns them into
`application/problem+json`; the CLI prints their detail. Every type is listed in
`schemas/openapi.yaml` (`components.schemas.Problem.properties.type.enum`), which a test
checks against the subclasses found here and in the capabilities.

The generic ones live here; each capability defines its own beside its use cases.
"""

from __future__ import annotations

from typing import Any, ClassVar

BASE = "urn:gateway:problem:"


class GatewayError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extra = {k: v for k, v in extra.items() if v is not None}

    @property
    def type(self) -> str:
        return BASE + self.slug

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.extra)
        return out


def problem_types() -> dict[str, type[GatewayError]]:
    """Every problem type defined by a subclass imported so far: slug → class."""
    found: dict[str, type[GatewayError]] = {}
    todo: list[type[GatewayError]] = [GatewayError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.slug, cls)
        todo.extend(cls.__subclasses__())
    return found


class BadRequest(GatewayError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthenticated(GatewayError):
    status, slug, title = 401, "unauthenticated", "Not authenticated"


class Forbidden(GatewayError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(GatewayError):
    status, slug, title = 404, "not-found", "Not found"


class SubjectNotFound(GatewayError):
    """The gateway holds nothing on this subject."""

    status, slug, title = 404, "subject-not-found", "Unknown subject"


class MethodNotAllowed(GatewayError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class NotAcceptable(GatewayError):
    status, slug, title = 406, "not-acceptable", "Not acceptable"


class UnsupportedMediaType(GatewayError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class RequestError(GatewayError):
    """Any other 4xx the framework raised before a handler ran."""

    status, slug, title = 400, "request-error", "Request error"


class BodyTooLarge(GatewayError):
    status, slug, title = 413, "body-too-large", "Request body too large"


class RequestTimeout(GatewayError):
    status, slug, title = 503, "request-timeout", "Request timed out"


class InternalError(GatewayError):
    """An unexpected failure: logged with its traceback, never shown to the client."""


class ServiceUnavailable(GatewayError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


FRAMEWORK_STATUS: dict[int, type[GatewayError]] = {
    400: BadRequest, 401: Unauthenticated, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    406: NotAcceptable, 415: UnsupportedMediaType,
}
