"""The authorisation matrix: every operation of schemas/openapi.yaml (read from the spec, so
new endpoints are covered without editing this file) against every sector.

- open operations (`security: []`) answer without a key;
- every other operation answers 401 without a key, and 403 to a sector whose scopes do not
  cover its `x-scopes` (operators only when it declares none);
- a sector whose scopes cover it gets past authorisation (whatever the handler then says).
"""

from __future__ import annotations

import re

import pytest
import yaml

from gateway.access.authz import load_rules
from gateway.access.keys import SECTOR_SCOPES, SECTORS
from gateway.paths import OPENAPI
from tests.factories import make_uscc

SPEC = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
RULES = sorted(load_rules(SPEC).values(), key=lambda r: (r.path, r.method))
DENIED = {"scope-missing", "forbidden"}


def _url(rule) -> str:
    path = re.sub(r"\{uscc\}", make_uscc(31), rule.path)
    return re.sub(r"\{[^}]+\}", "x-unknown", path)


def _body(rule) -> dict:
    op = SPEC["paths"][rule.path][rule.method.lower()]
    content = ((op.get("requestBody") or {}).get("content") or {})
    if not content:
        return {}
    if "application/json" in content:
        return {"json": {}}
    # files and XML: a media type no operation accepts, so validation (which runs after
    # authorisation) answers 415 and no handler has to cope with a probe body
    return {"content": b"probe", "headers": {"content-type": "application/x-authz-probe"}}


def _call(client, rule):
    kw = _body(rule)
    return client.request(rule.method, _url(rule), **kw)


def allowed(rule, sector: str) -> bool:
    if rule.scopes is None:
        return sector == "operator"
    return set(rule.scopes) <= SECTOR_SCOPES[sector]


def _type(r) -> str:
    try:
        return r.json().get("type", "").rsplit(":", 1)[-1]
    except ValueError:
        return ""


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method} {r.path}")
def test_nothing_is_reachable_without_a_key(anonymous, rule):
    r = _call(anonymous, rule)
    if rule.secured:
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    else:
        assert r.status_code != 401


def test_every_operation_is_either_open_or_secured_and_only_health_is_open():
    # and the gateway's published signing certificates: public keys, fetched to be pinned
    assert {r.path for r in RULES if not r.secured} == {"/healthz", "/readyz", "/v1/trust/certificates"}


def test_every_declared_scope_is_a_known_scope():
    from gateway.access.keys import SCOPES

    for rule in RULES:
        assert set(rule.scopes or ()) <= set(SCOPES), rule.operation_id


@pytest.mark.parametrize("sector", SECTORS)
def test_each_sector_reaches_exactly_what_its_scopes_cover(authed, sector):
    client = authed(sector)
    wrong = []
    for rule in RULES:
        if not rule.secured:
            continue
        r = _call(client, rule)
        denied = r.status_code == 403 and _type(r) in DENIED
        if allowed(rule, sector) == denied or r.status_code == 401:
            wrong.append(f"{rule.method} {rule.path}: {r.status_code} {_type(r)}")
    assert not wrong, "\n".join(wrong)


def test_a_key_with_a_narrower_scope_is_refused_what_it_lacks(authed):
    client = authed("land", scopes=["credit:read"])
    r = client.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": [make_uscc(1)]})
    assert r.status_code == 403 and r.json()["required_scopes"] == ["eligibility:check"]
    assert client.get(f"/v1/credit/{make_uscc(1)}").status_code == 404  # credit:read still works


def test_operators_alone_act_on_list_entries_and_deliveries():
    for rule in RULES:
        if rule.scopes and {"list-entries:write", "deliveries:write"} & set(rule.scopes):
            assert [s for s in SECTORS if allowed(rule, s)] == ["operator"], rule.operation_id
