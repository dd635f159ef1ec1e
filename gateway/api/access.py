"""`GET /v1/access/whoami`: the calling credential, its partner, sector and scopes."""

from __future__ import annotations

from connexion.context import context

from gateway.api.problems import json_response


def whoami():  # noqa: ANN201
    p = context["token_info"]["principal"]
    return json_response({
        "key_id": p.key_id, "kind": p.kind, "organisation": p.organisation, "name": p.name, "sector": p.sector,
        "agency": p.agency_code, "scopes": sorted(p.scopes),
        "expires_at": p.expires_at.isoformat() if p.expires_at else None,
    })
