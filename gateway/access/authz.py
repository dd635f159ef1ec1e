"""Authorisation: may this principal call this operation with these parameters? (授权)

Each operation in `schemas/openapi.yaml` names the scopes it needs in `x-scopes` (all of
them are required). The rules, in order:

1. an operation the spec leaves open (`security: []`) needs nothing;
2. an operation that requires authentication but declares no `x-scopes` is for operators
   only: new endpoints are closed until someone decides who may call them;
3. the principal must hold every scope in `x-scopes` (its scopes are already cut down to
   what its sector may hold, `keys.SECTOR_SCOPES`);
4. an agency key acts for its own agency only: an `agency` query parameter must be its
   agency code, and when it is absent the key's agency is implied (added to the request).

Refusals are `AccessRefused` errors (RFC 9457, with a stable type and the scopes involved).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

import yaml

from gateway.access.keys import Principal
from gateway.errors import GatewayError
from gateway.paths import OPENAPI

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class AccessRefused(GatewayError):
    """A refusal of the security layer (connexion compares `status_code` when several
    security schemes fail, so the instance carries it)."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.status_code = self.status


class NotAuthenticated(AccessRefused):
    status, slug, title = 401, "unauthenticated", "Not authenticated"


class OperatorsOnly(AccessRefused):
    status, slug, title = 403, "forbidden", "Operators only"


class ScopeMissing(AccessRefused):
    status, slug, title = 403, "scope-missing", "Not permitted"


class AgencyMismatch(AccessRefused):
    status, slug, title = 403, "agency-mismatch", "Not your agency"


class RateLimited(AccessRefused):
    status, slug, title = 429, "rate-limited", "Too many requests"


@dataclass(frozen=True)
class OperationRule:
    operation_id: str
    method: str
    path: str
    secured: bool
    scopes: tuple[str, ...] | None  # None: not declared (operators only)
    agency_param: bool  # the operation takes ?agency=


def load_rules(spec: dict[str, Any]) -> dict[str, OperationRule]:
    rules: dict[str, OperationRule] = {}
    top_security = spec.get("security") or []
    for path, item in (spec.get("paths") or {}).items():
        common = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            security = op.get("security", top_security)
            params = [_deref(spec, p) for p in (*common, *(op.get("parameters") or []))]
            agency = any(p.get("in") == "query" and p.get("name") == "agency" for p in params)
            scopes = op.get("x-scopes")
            rules[op["operationId"]] = OperationRule(
                op["operationId"], method.upper(), path, bool(security), tuple(scopes) if scopes is not None else None, agency
            )
    return rules


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not ref:
        return node
    target: Any = spec
    for part in ref.lstrip("#/").split("/"):
        target = target[part]
    return target


@cache
def spec_rules() -> dict[str, OperationRule]:
    # libyaml when present: the pure-Python parser took 0.3 s, on the first authenticated request
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return load_rules(yaml.load(OPENAPI.read_text(encoding="utf-8"), Loader=loader))  # noqa: S506 - a safe loader


def rule_for(operation_id: str | None) -> OperationRule | None:
    return spec_rules().get(operation_id or "")


def required_scopes(rule: OperationRule) -> tuple[str, ...] | None:
    return rule.scopes


def authorize(principal: Principal, rule: OperationRule | None, scope: dict[str, Any] | None = None) -> None:
    """Raise AccessRefused (403) unless `principal` may call the operation; may imply ?agency=."""
    if rule is None or not rule.secured:
        return
    if rule.scopes is None:
        if not principal.is_operator:
            raise OperatorsOnly(f"{rule.operation_id} declares no scopes; only operators may call it",
                                required_scopes=[], sector=principal.sector)
        return
    missing = [s for s in rule.scopes if not principal.may(s)]
    if missing:
        raise ScopeMissing(f"this operation needs {', '.join(rule.scopes)}; the key (sector {principal.sector}) lacks {', '.join(missing)}",
                            required_scopes=list(rule.scopes), granted_scopes=sorted(principal.scopes), sector=principal.sector)
    if principal.sector == "agency" and rule.agency_param and scope is not None:
        _bind_agency(principal, scope)


def _bind_agency(principal: Principal, scope: dict[str, Any]) -> None:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    given = [v for k, v in pairs if k == "agency"]
    if not given:
        pairs.append(("agency", principal.agency_code or ""))
        scope["query_string"] = urlencode(pairs).encode("latin-1")
        return
    if any(v != principal.agency_code for v in given):
        raise AgencyMismatch(f"this key acts for agency {principal.agency_code}; it may not act for {given[0]}",
                            agency=principal.agency_code)
