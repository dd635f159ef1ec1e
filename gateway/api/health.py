"""`/healthz` (the process is alive) and `/readyz` (it can serve, and what it stores is current).

Readiness checks, each `(ok, detail)`:

- `database`, `migrations`: reachable, schema at the latest revision;
- `signing_key`: an active signing key loads;
- `scheduler_leader`: some scheduler holds the leader lock (PostgreSQL);
- `change_feed`: no subject quarantined, and the oldest pending change younger than
  `change_feed_max_age_seconds` (default 5 minutes): otherwise answers and publication lag;
- `publication`: no publication item quarantined (it cannot be put in a bulletin).
"""

from __future__ import annotations

from typing import Any

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.changes import feed
from gateway.observability.leader import scheduler_leader
from gateway.publication import repository as publication_repo
from gateway.store import migrate


def _certificate_warnings(svc: Any) -> list[dict]:
    """Signing certificates expiring within 60 days (or expired): renew before partners refuse."""
    return [
        {"source": "signing", "key_id": w.key_id, "subject": w.subject, "not_after": w.not_after.isoformat(),
         "days_left": w.days_left, "active": w.active, "expired": w.expired}
        for w in svc.keyring.expiry_warnings(svc.clock.now(), days=60)
    ]


def _signing(svc: Any) -> tuple[bool, str]:
    return True, f"active key {svc.keyring.active.key_id}"


def _change_feed(svc: Any) -> tuple[bool, str]:
    now = svc.clock.now()
    with svc.db.read() as conn:
        st = feed.stats(conn, now)
    age, limit = st.oldest_age(now), svc.settings.change_feed_max_age_seconds
    detail = f"{st.pending} pending (oldest {age:.0f} s), {st.quarantined} quarantined"
    if st.quarantined:
        detail += ": `gateway changes list --quarantined`, then `gateway changes retry`"
    elif age > limit:
        detail += f": older than {limit:g} s (is a consumer running?)"
    return st.quarantined == 0 and age <= limit, detail


def _publication(svc: Any) -> tuple[bool, str]:
    with svc.db.read() as conn:
        counts = publication_repo.item_counts(conn)
    quarantined = sum(c["count"] for c in counts if c["state"] == publication_repo.QUARANTINED)
    pending = sum(c["count"] for c in counts if c["state"] == publication_repo.PENDING)
    detail = f"{pending} item(s) pending, {quarantined} item(s) quarantined"
    if quarantined:
        detail += ": `gateway publication quarantined`, fix the record, then `gateway publication retry`"
    return quarantined == 0, detail


CHECKS = (("signing_key", _signing), ("scheduler_leader", scheduler_leader), ("change_feed", _change_feed),
          ("publication", _publication))


def healthz():  # noqa: ANN201
    svc = services()
    body: dict[str, Any] = {"status": "ok"}
    try:
        warnings = _certificate_warnings(svc)
    except Exception as exc:  # noqa: BLE001 - a warning must never make the process look dead
        warnings = [{"source": "signing", "error": str(exc)}]
    if warnings:
        body["warnings"] = warnings
    return json_response(body)


def readiness(svc: Any) -> tuple[bool, dict[str, dict[str, Any]]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        svc.db.ping()
        checks["database"] = {"ok": True}
        current = migrate.is_current(svc.db)
        checks["migrations"] = {"ok": current, "detail": "current" if current else "pending: run gateway db upgrade"}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        return False, checks
    for name, check in CHECKS:
        try:
            ok, detail = check(svc)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            ok, detail = False, type(exc).__name__
        checks[name] = {"ok": bool(ok), "detail": str(detail)}
    return all(c["ok"] for c in checks.values()), checks


def readyz():  # noqa: ANN201
    ready, checks = readiness(services())
    return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)
