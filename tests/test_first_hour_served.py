"""What a newcomer meets first from a served gateway and the CLI: route templates in `/metrics`
and the logs of a real server (uvicorn, not the in-process test client), and `gateway uscc make`."""

from __future__ import annotations

import subprocess

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_uscc
from tests.ops.served import GATEWAY, serve


def _routes(metrics: str) -> set[str]:
    return {s.labels["route"] for family in text_string_to_metric_families(metrics) for s in family.samples
            if s.name == "gateway_http_request_duration_seconds_count"}


def test_a_served_gateway_labels_requests_by_route_template_in_metrics_and_logs(tmp_path):
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "GATEWAY_KEYS_DIR": str(tmp_path / "keys")}
    code = make_uscc(7)
    with serve("serve", env=env) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        assert http.get(f"/v1/subjects/{code}").status_code == 401
        assert http.get("/v1/deliveries/D-1:requeue").status_code in (401, 405)
        assert http.post("/v1/eligibility:check", json={}).status_code == 401
        assert http.get("/no/such/path").status_code == 404
        routes = _routes(http.get("/metrics").text)
    assert {"/v1/subjects/{uscc}", "/v1/eligibility:check"} <= routes, routes
    assert not any(code in r for r in routes)
    assert "unmatched" in routes  # the one path no operation has
    logs = "".join(served.stderr)
    assert "route=/v1/subjects/{uscc}" in logs or '"route": "/v1/subjects/{uscc}"' in logs, logs[-3000:]


def test_uscc_make_prints_a_valid_code_for_rehearsals():
    made = subprocess.run([GATEWAY, "uscc", "make", "510703", "42"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    assert code == make_uscc(42)
    checked = subprocess.run([GATEWAY, "uscc", "check", code], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.strip() == code
    bad = subprocess.run([GATEWAY, "uscc", "make", "999999", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
