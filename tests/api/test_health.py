"""Health and readiness: open endpoints; certificate expiry warned 60 days ahead."""

from __future__ import annotations

import datetime as dt

from gateway.app import create_app
from gateway.signing.keys import generate_private_key, parse_subject, self_signed_certificate, write_key_pair


def test_healthz_and_readyz_answer_without_credentials(services):
    with create_app(services).test_client() as c:
        assert c.get("/healthz").json()["status"] == "ok"
        ready = c.get("/readyz")
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] and checks["migrations"]["ok"] and checks["signing_key"]["ok"]
        # on PostgreSQL no scheduler leads in this test, so the gateway rightly says not ready
        assert ready.status_code == (200 if all(c["ok"] for c in checks.values()) else 503)
        assert "scheduler_leader" in checks


def test_a_certificate_expiring_within_60_days_is_warned_on_healthz(services, clock):
    key = generate_private_key("ec")
    cert = self_signed_certificate(key, parse_subject("CN=gateway test"), days=30, now=clock.now())
    services.settings.generate_dev_keys = False
    write_key_pair(services.settings.keys_dir, "short", key, cert)
    with create_app(services).test_client() as c:
        body = c.get("/healthz").json()
    assert body["status"] == "ok"
    (warning,) = body["warnings"]
    assert warning["source"] == "signing" and 28 <= warning["days_left"] <= 30 and not warning["expired"]
    assert dt.datetime.fromisoformat(warning["not_after"]) > clock.now()


def test_readyz_reports_pending_migrations_as_not_ready(services, db, monkeypatch):
    from gateway.store import migrate

    monkeypatch.setattr(migrate, "is_current", lambda _db: False)
    with create_app(services).test_client() as c:
        r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["migrations"]["ok"] is False
