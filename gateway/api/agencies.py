"""`GET /v1/agencies`."""

from __future__ import annotations

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.intake import repository as intake_repo


def list_agencies() -> dict:
    with services().db.read() as conn:
        rows = intake_repo.list_agencies(conn)
    return json_response({"items": [{"code": r.code, "name": r.name, "uscc": r.uscc, "region": r.region, "level": r.level, "sector": r.sector} for r in rows]})
