"""`/healthz` (the process is alive) and `/readyz` (it can serve)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.store import migrate

# capabilities add (name, check) pairs: check() -> (ok, detail); and warnings() providers
READINESS_CHECKS: list[tuple[str, Any]] = []
HEALTH_WARNINGS: list[Any] = []


def _certificate_warnings() -> list[dict]:
    """Signing certificates expiring within 60 days (or expired): renew before partners refuse."""
    svc = services()
    return [
        {"source": "signing", "key_id": w.key_id, "subject": w.subject, "not_after": w.not_after.isoformat(),
         "days_left": w.days_left, "active": w.active, "expired": w.expired}
        for w in svc.keyring.expiry_warnings(svc.clock.now(), days=60)
    ]


def _signing_ready(svc) -> tuple[bool, str]:  # noqa: ANN001
    key = svc.keyring.active
    return True, f"active key {key.key_id}"


READINESS_CHECKS.append(("signing_key", _signing_ready))
HEALTH_WARNINGS.append(_certificate_warnings)


def healthz():
    warnings: list[dict] = []
    for provider in HEALTH_WARNINGS:
        try:
            warnings.extend(provider())
        except Exception as exc:  # a warning provider must never make the process look dead
            warnings.append({"source": getattr(provider, "__name__", "?"), "error": str(exc)})
    body: dict[str, Any] = {"status": "ok"}
    if warnings:
        body["warnings"] = warnings
    return json_response(body)


def readyz():
    svc = services()
    checks: dict[str, dict[str, Any]] = {}
    try:
        with svc.db.read() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
        current = migrate.is_current(svc.db)
        checks["migrations"] = {"ok": current, "detail": "current" if current else "pending: run gateway db upgrade"}
    except Exception as exc:
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
    for name, check in READINESS_CHECKS:
        try:
            ok, detail = check(svc)
        except Exception as exc:
            ok, detail = False, type(exc).__name__
        checks[name] = {"ok": bool(ok), "detail": str(detail)}
    ready = all(c["ok"] for c in checks.values())
    return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)
