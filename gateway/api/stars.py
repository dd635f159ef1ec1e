"""Stars over years (`003` §七): `GET|POST /v1/subjects/{uscc}/star-steps`. Thin: parse, call
`gateway.policy.star_steps`, shape the answer; the actor is the authenticated credential."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.api.deps import services
from gateway.api.policy import _actor, _subject
from gateway.api.problems import json_response
from gateway.errors import BadRequest
from gateway.policy.star_steps import StarSteps


def _steps() -> StarSteps:
    svc = services()
    return StarSteps(svc.db, svc.clock, svc.profile)


def get_star_steps(uscc: str) -> Any:
    return json_response(_steps().steps(_subject(uscc).id))


def post_star_step(uscc: str, body: dict) -> Any:
    deadline = body.get("deadline")
    try:
        day = dt.date.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    subject = _subject(uscc)
    return json_response(_steps().record(subject.id, body["step"], body["reason"], _actor(), day), 201)
