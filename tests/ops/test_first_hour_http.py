"""What a newcomer meets first over HTTP: route templates in `/metrics` and the logs of a real
server, 401 answers that say why and how to authenticate, and the API docs (Swagger UI)."""

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


def test_401_says_how_to_authenticate_and_why(anonymous):
    missing = anonymous.get(f"/v1/credit/{make_uscc(3)}")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith('Bearer realm="gateway"')
    assert missing.json()["reason"] == "credentials_missing"
    assert "Authorization: Bearer" in missing.json()["detail"]
    bad = anonymous.get(f"/v1/credit/{make_uscc(3)}", headers={"Authorization": "Bearer gw_nope_nope"})
    assert bad.status_code == 401
    challenge = bad.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="gateway"') and 'error="invalid_token"' in challenge
    assert bad.json()["reason"]
    as_api_key = anonymous.get(f"/v1/credit/{make_uscc(3)}", headers={"X-API-Key": "gw_nope_nope"})
    assert as_api_key.status_code == 401 and "WWW-Authenticate" in as_api_key.headers


def test_swagger_ui_serves_the_openapi_document(anonymous):
    page = anonymous.get("/docs/")
    assert page.status_code == 200 and "swagger-ui" in page.text
    spec = anonymous.get("/openapi.json")
    assert spec.status_code == 200 and "/v1/credit/{uscc}" in spec.json()["paths"]


def test_uscc_make_prints_a_valid_code_for_rehearsals():
    made = subprocess.run([GATEWAY, "uscc", "make", "510703", "42"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    assert code == make_uscc(42)
    checked = subprocess.run([GATEWAY, "uscc", "check", code], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.strip() == code
    bad = subprocess.run([GATEWAY, "uscc", "make", "999999", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
