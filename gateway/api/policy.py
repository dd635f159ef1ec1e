"""Decisions and list entries: `GET /v1/subjects/{uscc}/decisions`, `GET /v1/list-entries`,
`GET /v1/list-entries/{entry_id}`, `POST /v1/list-entries/{entry_id}/transitions`,
`POST /v1/incentive-applications`. Thin: parse, call the policy service, shape the answer.

The actor of every step is the authenticated credential (`key:<key id>`, 谁提供、谁负责),
never a field of the body.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from gateway.api.deps import services
from gateway.api.isolation import minimised, without_foreign_records
from gateway.api.problems import json_response
from gateway.api.subjects import subject_for_caller, subject_or_404
from gateway.errors import BadRequest
from gateway.policy.provider import Acting


def _principal():  # noqa: ANN202
    from connexion.context import context

    return context["token_info"]["principal"]


def _actor() -> str:
    """Who acts: the credential that authenticated this request."""
    return f"key:{_principal().key_id}"


def _acting(acting_for: str | None) -> Acting:
    """The credential, its agency (an agency key) and the agency an operator acts for."""
    p = _principal()
    return Acting(f"key:{p.key_id}", p.agency_code, p.is_operator, acting_for)


def _subject(given: str):  # noqa: ANN202
    with services().db.read() as conn:
        return subject_or_404(conn, given)


def get_decisions(uscc: str) -> Any:
    with services().db.read() as conn:
        subject, own = subject_for_caller(conn, uscc)
    view = services().policy.decisions_for(subject.id)
    if own is not None:  # an agency: no record id of another agency
        view = without_foreign_records(view, own)
    return json_response(view)


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(f"cursor {value!r} is not one this API handed out") from None


def _next_cursor(last_id: int | None) -> str | None:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=") if last_id is not None else None


def list_entries(**query: Any) -> Any:
    after = _cursor(query.get("cursor"))
    before = query.get("expires_before")
    try:
        expires_before = dt.date.fromisoformat(before) if isinstance(before, str) else before
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    subject_id = _subject(query["subject"]).id if query.get("subject") else None
    items, last = services().policy.entries(
        after_id=after,
        limit=int(query.get("limit") or 100),
        list_kind=query.get("list"),
        state=query.get("state"),
        expires_before=expires_before,
        region=query.get("region"),
        subject_id=subject_id,
    )
    return json_response({"items": minimised(items), "next_cursor": _next_cursor(last)})


def get_entry(entry_id: str) -> Any:
    p = _principal()
    return json_response(minimised(services().policy.entry(entry_id, p.agency_code if p.sector == "agency" else None)))


def _date(body: dict, key: str) -> dt.date | None:
    value = body.get(key)
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None


def post_transition(entry_id: str, body: dict) -> Any:
    result = services().policy.transition(entry_id, body["action"], _acting(body.get("acting_for")), body.get("note"),
                                          bool(body.get("fraud", False)), body.get("argument"),
                                          _date(body, "happened_on"), body.get("level"), body.get("evidence"))
    return json_response(result.to_dict())


def post_objection_answer(entry_id: str, body: dict) -> Any:
    """谁提供、谁负责: the providing agency's key, or an operator acting for it."""
    result = services().policy.transition(entry_id, body["outcome"], _acting(body.get("acting_for")), body.get("note"))
    return json_response(result.to_dict())


def post_incentive_application(body: dict) -> Any:
    subject = _subject(body["uscc"])
    entry = services().policy.apply_incentive(subject.id, _actor(), body.get("note"))
    return json_response(entry, 201)


def post_repair_application(body: dict) -> Any:
    """The subject applies for credit repair of a penalty (信用修复, rule 5)."""
    subject = _subject(body["uscc"])
    made = services().policy.apply_repair(subject.id, body["record_id"], _actor(), body.get("note"),
                                          _date(body, "happened_on"))
    return json_response(made, 201)


def get_repair(repair_id: str) -> Any:
    return json_response(services().policy.repair(repair_id))


def post_repair_decision(repair_id: str, body: dict) -> Any:
    return json_response(services().policy.decide_repair(repair_id, body["outcome"], _actor(), body.get("note"),
                                                         _date(body, "happened_on")))
