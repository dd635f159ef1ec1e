"""Access: who may ask what, what they see, and the record of it (DESIGN.md "Trust", "Answer").

One question per module:

- `keys`: partners and credentials (API keys stored as SHA-256, client certificates),
  scopes per sector, issue / rotate / revoke, verification;
- `authn`: the connexion security functions (Bearer, X-API-Key, X-Client-Cert from a
  trusted proxy), which also authorise and rate-limit;
- `authz`: which scopes an operation needs (`x-scopes` in the spec) and agency binding;
- `ratelimit`: token buckets per partner;
- `audit`: the append-only hash chain (append, verify, prune, query);
- `recorder`: the middleware that records every authenticated request, group-committed;
- `standing`: a subject's lists, measures and ratings now; `credit`: what a sector sees;
- `eligibility`: bidder checks and the signed report;
- `settings`: the capability's settings; `testing`: keys for tests.

`install(services)` wires it (the one wiring place, `gateway.bootstrap.build`, calls it):
the audit middleware as an app hook and audit pruning as a retention hook.
"""

from __future__ import annotations

from typing import Any


def app_hook(app: Any, services: Any) -> None:
    from connexion.middleware import MiddlewarePosition

    from gateway.access.recorder import AuditMiddleware

    app.add_middleware(AuditMiddleware, position=MiddlewarePosition.BEFORE_SECURITY, services=services)


def retention_hook(services: Any, now: Any = None) -> None:
    from gateway.access.audit import prune_expired

    prune_expired(services)


def install(services: Any) -> None:
    hooks = services.extras.setdefault("app_hooks", [])
    if app_hook not in hooks:
        hooks.append(app_hook)
    retention = services.extras.setdefault("retention", [])
    if retention_hook not in retention:
        retention.append(retention_hook)
