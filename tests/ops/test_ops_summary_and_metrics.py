"""What operators see: the summary endpoint, `/metrics` and `/readyz`."""

from __future__ import annotations

import datetime as dt
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.ops import seed


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def _seed_everything(db, now):
    sid = seed.subject(db, 3, now)
    on_time = seed.record(db, "MY-AJJ", sid, now, publish_by=now.date())
    seed.record(db, "MY-AJJ", sid, now, publish_by=now.date() - dt.timedelta(days=2))  # overdue
    seed.record(db, "FC-AJJ", sid, now, publish_by=now.date() + dt.timedelta(days=1))  # due soon
    dead = seed.delivery(db, now, state="dead", error="HTTP 503", attempts=8, durations_ms=(80.0, 4000.0))
    seed.delivery(db, now, state="pending")
    acked = seed.delivery(db, now, state="partially_rejected", record_uid=on_time, sent_ago=dt.timedelta(minutes=5))
    seed.reject_item(db, acked, now)
    seed.delivery(db, now, destination="local", state="awaiting_receipt", sent_ago=dt.timedelta(days=3))
    seed.breaker(db, "credit-china", "open", now)
    entry = seed.proposed_entry(db, sid, now)
    return dead, entry


def test_summary_shows_queues_dead_letters_overdue_receipts_rejections_timeliness_and_entries(operator, wired, clock):
    dead, entry = _seed_everything(wired.db, clock.now())
    r = operator.get("/v1/ops/summary")
    assert r.status_code == 200, r.text
    body = r.json()
    queues = {(q["destination"], q["state"]): q["count"] for q in body["queues"]}
    assert queues[("local", "dead")] == 1 and queues[("local", "pending")] == 1
    assert [d["delivery_id"] for d in body["dead_letters"]] == [dead]
    assert len(body["receipts_overdue"]) == 1 and body["receipts_overdue"][0]["waiting_seconds"] >= 3 * 86400
    assert [(a["agency"], a["items"]) for a in body["rejected_by_agency"]] == [("MY-AJJ", 1)]
    per_agency = {a["agency"]: a for a in body["publication"]["agencies"]}
    assert per_agency["MY-AJJ"]["on_time"] == 1 and per_agency["MY-AJJ"]["overdue"] == 1
    assert per_agency["MY-AJJ"]["on_time_rate"] == 0.5
    assert per_agency["FC-AJJ"]["due"] == 1 and per_agency["FC-AJJ"]["on_time_rate"] is None
    assert {n["overdue"] for n in body["publication"]["near_or_past"]} == {True, False}
    awaiting = {e["id"]: e for e in body["list_entries_awaiting"]}
    assert "notify" in awaiting[entry]["allowed_actions"]
    assert body["breakers"][0]["state"] == "open"
    assert any(c["kind"] == "signing" and c["days_left"] > 0 for c in body["certificates"])
    assert body["scheduler"]["leader_known"] is True


def test_summary_is_for_operators_only(app, wired, anonymous):
    from gateway.access.testing import headers_for, issue

    assert anonymous.get("/v1/ops/summary").status_code == 401
    for sector in ("agency", "platform", "finance"):
        kw = {"agency": "MY-AJJ"} if sector == "agency" else {}
        with app.test_client(headers=headers_for(issue(wired, sector, **kw))) as c:
            assert c.get("/v1/ops/summary").status_code == 403, sector


def test_metrics_are_computed_from_the_database_at_scrape_time(operator, anonymous, wired, clock):
    _seed_everything(wired.db, clock.now())
    operator.get("/v1/deliveries/does-not-exist")
    started = time.perf_counter()
    r = anonymous.get("/metrics")
    took = time.perf_counter() - started
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    s = _samples(r.text)
    assert s[("gateway_deliveries", (("destination", "local"), ("state", "dead")))] == 1
    assert s[("gateway_deliveries", (("destination", "local"), ("state", "acknowledged")))] == 0
    assert s[("gateway_delivery_attempts_total", (("destination", "local"), ("outcome", "failed")))] == 2
    assert s[("gateway_delivery_send_seconds_bucket", (("destination", "local"), ("le", "0.1")))] == 1
    assert s[("gateway_oldest_pending_age_seconds", (("destination", "local"),))] == 3600
    assert s[("gateway_receipt_oldest_wait_seconds", (("destination", "local"),))] == 3 * 86400
    assert s[("gateway_receipt_lag_seconds", (("destination", "local"), ("quantile", "0.5")))] == 300
    assert s[("gateway_breaker_state", (("destination", "credit-china"), ("state", "open")))] == 1
    assert s[("gateway_breaker_state", (("destination", "credit-china"), ("state", "closed")))] == 0
    assert s[("gateway_publication_on_time_ratio", (("agency", "MY-AJJ"),))] == 0.5
    assert s[("gateway_publication_records", (("agency", "MY-AJJ"), ("outcome", "overdue")))] == 1
    assert s[("gateway_list_entries", (("list", "joint_punishment"), ("state", "proposed")))] == 1
    assert s[("gateway_scheduler_leader_known", ())] == 1
    assert s[("gateway_metrics_database_up", ())] == 1
    certs = [k for k in s if k[0] == "gateway_certificate_days_left"]
    assert certs and all(s[k] > 0 for k in certs)
    # API latency is labelled by the route template, never the raw path
    routes = {dict(k[1]).get("route") for k in s if k[0] == "gateway_http_request_duration_seconds_count"}
    assert "/v1/deliveries/{delivery_id}" in routes
    assert not any("does-not-exist" in (r or "") for r in routes)
    print(f"/metrics scrape: {took * 1000:.1f} ms")


def test_readyz_reports_the_scheduler_leader(anonymous):
    body = anonymous.get("/readyz").json()
    assert body["checks"]["scheduler_leader"]["ok"] is True
    assert "SQLite" in body["checks"]["scheduler_leader"]["detail"] or "leader" in body["checks"]["scheduler_leader"]["detail"]


def test_request_id_is_propagated_or_made(anonymous):
    r = anonymous.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = anonymous.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32
