"""RFC 9457 problem responses with stable types (STYLE.md: errors are part of the API)."""

from __future__ import annotations

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

PROBLEM = "application/problem+json"
BASE = "urn:gateway:problem:"


class ApiProblem(Exception):
    """Raise from a handler to answer with problem JSON."""

    def __init__(self, status: int, slug: str, title: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail, self.extra = status, slug, title, detail, extra

    def response(self, headers: dict[str, str] | None = None) -> ConnexionResponse:
        return problem(self.status, self.slug, self.title, self.detail, headers=headers, **self.extra)


def problem_body(status: int, slug: str, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": slug if slug.startswith(("urn:", "about:", "http")) else BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(
    status: int, slug: str, title: str, detail: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> ConnexionResponse:
    body = problem_body(status, slug, title, detail, **extra)
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM,
        content_type=PROBLEM,
        body=json.dumps(body, ensure_ascii=False, default=str),
        headers=headers or {},
    )


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    """A JSON answer; explicit because operations also declare problem+json responses."""
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False, default=str),
        headers=headers or {},
    )
