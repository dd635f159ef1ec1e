"""`/v1/watchlists`: a finance or insurance partner's watchlists (贷后监控), their subjects and
their changes (`gateway.watchlists.service`)."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.context import context
from connexion.lifecycle import ConnexionResponse
from starlette.concurrency import run_in_threadpool

from gateway.access.keys import Principal
from gateway.api.deps import services
from gateway.api.problems import json_response


def _who() -> Principal:
    return context["token_info"]["principal"]


def _note(**values: Any) -> None:
    context.setdefault("audit", {}).update({k: v for k, v in values.items() if v is not None})


def _subjects(body: Any) -> list[tuple[str, str | None]]:
    svc = services().watchlists
    content_type = request.headers.get("content-type")
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body)
    return svc.parse_subjects(body, content_type)


async def create_watchlist(body: Any = None, name: str | None = None, mode: str | None = None,
                           destination: str | None = None) -> Any:
    svc = services().watchlists
    who = _who()
    if isinstance(body, dict):
        name, mode, destination = body.get("name", name), body.get("mode", mode), body.get("destination", destination)
        subjects_in: Any = body.get("subjects") or []
    else:
        subjects_in = body or b""
    pairs = await run_in_threadpool(svc.parse_subjects, subjects_in, request.headers.get("content-type"))
    made = await run_in_threadpool(svc.create, who, name=name or "watchlist", mode=mode or "poll",
                                   destination=destination, subjects=pairs)
    _note(detail={"watchlist": made["id"], "subjects": made["subjects"], "mode": made["mode"]})
    return json_response(made, status=201, headers={"Location": f"/v1/watchlists/{made['id']}"})


def list_watchlists() -> Any:
    return json_response({"watchlists": services().watchlists.list(_who())})


def get_watchlist(watchlist_id: str) -> Any:
    _note(detail={"watchlist": watchlist_id})
    return json_response(services().watchlists.get(_who(), watchlist_id))


def delete_watchlist(watchlist_id: str) -> Any:
    _note(detail={"watchlist": watchlist_id})
    services().watchlists.delete(_who(), watchlist_id)
    return ConnexionResponse(status_code=204)


def list_subjects(watchlist_id: str, after: str | None = None, limit: int = 1000) -> Any:
    return json_response(services().watchlists.subjects(_who(), watchlist_id, after=after, limit=limit))


async def add_subjects(watchlist_id: str, body: Any = None) -> Any:
    svc = services().watchlists
    pairs = await run_in_threadpool(_subjects, body)
    out = await run_in_threadpool(svc.add, _who(), watchlist_id, pairs)
    _note(detail={"watchlist": watchlist_id, "added": len(pairs), "subjects": out["subjects"]})
    return json_response(out)


async def remove_subjects(watchlist_id: str, body: Any = None) -> Any:
    svc = services().watchlists
    pairs = await run_in_threadpool(_subjects, body)
    out = await run_in_threadpool(svc.remove, _who(), watchlist_id, [k for k, _ in pairs])
    _note(detail={"watchlist": watchlist_id, "removed": len(pairs), "subjects": out["subjects"]})
    return json_response(out)


def list_changes(watchlist_id: str, since: int = 0, limit: int = 500) -> Any:
    _note(detail={"watchlist": watchlist_id, "since": since})
    return json_response(services().watchlists.changes(_who(), watchlist_id, since=since, limit=limit))
