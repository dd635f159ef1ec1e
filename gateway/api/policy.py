"""Decisions and list entries: `GET /v1/subjects/{uscc}/decisions`, `GET /v1/list-entries`,
`GET /v1/list-entries/{entry_id}`, `POST /v1/list-entries/{entry_id}/transitions`,
`POST /v1/incentive-applications`. Thin: parse, call `gateway.policy_service`, shape the answer.

Until partner authentication arrives, the acting person is the `actor` of the body
(default `operator`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from gateway import policy_service
from gateway.api.deps import services
from gateway.api.problems import json_response, problem
from gateway.api.subjects import identifier_problem, resolve
from gateway.domain.identifiers import IdentifierError
from gateway.domain.policy.lifecycle import IllegalTransition
from gateway.policy_outcomes import PolicyError
from gateway.policy_views import api_action

DEFAULT_ACTOR = "operator"


def _policy() -> policy_service.PolicyService:
    return policy_service.get(services())


def _policy_problem(exc: PolicyError):  # noqa: ANN202
    return problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)


def _subject(given: str):  # noqa: ANN202
    """(subject row, None) or (None, problem response)."""
    with services().db.read() as conn:
        try:
            subject, normalized = resolve(conn, given)
        except IdentifierError as exc:
            return None, identifier_problem(exc, given)
    if subject is None:
        return None, problem(404, "subject-not-found", "Unknown subject", f"no records for {normalized}",
                             normalized=normalized)
    return subject, None


def get_decisions(uscc: str) -> Any:
    subject, failed = _subject(uscc)
    if failed is not None:
        return failed
    return json_response(_policy().decisions_for(subject.id))


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError(f"cursor {value!r} is not one this API handed out") from None


def _next_cursor(last_id: int | None) -> str | None:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=") if last_id is not None else None


def list_entries(**query: Any) -> Any:
    try:
        after = _cursor(query.get("cursor"))
        before = query.get("expires_before")
        expires_before = dt.date.fromisoformat(before) if isinstance(before, str) else before
    except ValueError as exc:
        return problem(400, "bad-request", "Bad query", str(exc))
    subject_id = None
    if query.get("subject"):
        subject, failed = _subject(query["subject"])
        if failed is not None:
            return failed
        subject_id = subject.id
    items, last = _policy().entries(
        after_id=after,
        limit=int(query.get("limit") or 100),
        list_kind=query.get("list"),
        state=query.get("state"),
        expires_before=expires_before,
        region=query.get("region"),
        subject_id=subject_id,
    )
    return json_response({"items": items, "next_cursor": _next_cursor(last)})


def get_entry(entry_id: str) -> Any:
    try:
        return json_response(_policy().entry(entry_id))
    except PolicyError as exc:
        return _policy_problem(exc)


def post_transition(entry_id: str, body: dict) -> Any:
    action = body["action"]
    try:
        result = _policy().transition(
            entry_id, action, body.get("actor") or DEFAULT_ACTOR, body.get("note"), bool(body.get("fraud", False))
        )
    except IllegalTransition as exc:
        allowed = [api_action(a) for a in exc.allowed]
        return problem(
            409,
            "illegal-transition",
            "Transition not allowed",
            f"cannot {action!r} an entry in state {exc.state!r}; allowed: {', '.join(allowed) or 'none (final state)'}",
            entry=entry_id,
            state=exc.state,
            action=action,
            allowed=allowed,
        )
    except PolicyError as exc:
        return _policy_problem(exc)
    return json_response(result.to_dict())


def post_incentive_application(body: dict) -> Any:
    subject, failed = _subject(body["uscc"])
    if failed is not None:
        return failed
    try:
        entry = _policy().apply_incentive(subject.id, body.get("actor") or DEFAULT_ACTOR, body.get("note"))
    except PolicyError as exc:
        return _policy_problem(exc)
    return json_response(entry, 201)
