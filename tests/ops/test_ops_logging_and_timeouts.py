"""Structured logs carry the request id and never a secret; slow requests get a 503."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
import structlog

from gateway.logging_setup import configure_logging, log_context, redact_text
from tests.factories import make_uscc

ID_NUMBER = "51070319900307123X"  # GB 11643 form: division, birth date, sequence, check
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", as_json=True, stream=stream)
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_redaction_masks_keys_tokens_private_keys_and_id_numbers():
    token = "gw_0123456789ab_" + "s" * 43
    text = redact_text(f"Authorization: Bearer {token} id={ID_NUMBER} key={PRIVATE_KEY} uscc={make_uscc(5)}")
    assert "s" * 43 not in text and "Authorization: [REDACTED]" in text
    assert redact_text(f"key {token} issued") == "key gw_0123456789ab_[REDACTED] issued"  # the key id stays
    assert redact_text("Bearer abcdefgh12345678") == "Bearer [REDACTED]"
    assert ID_NUMBER not in text and "510703********123X" in text
    assert "MIIEvQ" not in text and "[REDACTED PRIVATE KEY]" in text
    assert make_uscc(5) in text  # unified social credit codes are public identifiers: kept


def test_no_secret_reaches_a_log_line_while_driving_requests(captured, app, wired, operator_key):
    token = operator_key.token
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "req-redaction-1",
               "X-API-Key": token, "Cookie": f"gw_console={token}"}
    log = logging.getLogger("gateway.test")
    slog = structlog.get_logger("gateway.test")

    with app.test_client() as client:
        client.get(f"/v1/subjects/{ID_NUMBER}", headers=headers)
        client.get(f"/v1/credit/{ID_NUMBER}?note={ID_NUMBER}", headers=headers)
        client.post("/console/login", content=f"api_key={token}",
                    headers={"content-type": "application/x-www-form-urlencoded", "X-Request-Id": "req-login"})
        client.get("/v1/ops/summary", headers={"Authorization": "Bearer gw_not-a-key"})
    with log_context(delivery_id="d-1", destination="credit-china"):
        log.warning("headers %s", headers)
        log.info("posting", extra={"authorization": f"Bearer {token}", "payload": {"id_number": ID_NUMBER}})
        slog.error("signing failed", private_key=PRIVATE_KEY, password="hunter2", body=f"<ID>{ID_NUMBER}</ID>")
        try:
            raise ValueError(f"bad token {token} for {ID_NUMBER}")
        except ValueError:
            log.exception("boom")

    raw = captured.getvalue()
    secret = token.split("_", 2)[2]
    assert secret not in raw
    assert ID_NUMBER not in raw
    assert "MIIEvQ" not in raw and "hunter2" not in raw
    lines = _lines(captured)
    bound = [x for x in lines if x.get("delivery_id") == "d-1"]
    assert len(bound) == 4 and all(x["destination"] == "credit-china" for x in bound)
    assert any("510703********123X" in json.dumps(x, ensure_ascii=False) for x in bound)
    requests = [x for x in lines if x.get("event") == "request"]
    assert {x["route"] for x in requests} >= {"/v1/subjects/{uscc}", "/v1/credit/{uscc}", "/console"}
    assert any(x["path"] == "/v1/credit/510703********123X" and "510703********123X" in x["query"] for x in requests)
    assert any(x.get("request_id") == "req-redaction-1" for x in requests)


def test_request_id_is_bound_to_log_lines_of_the_request(captured, app, wired, operator_key, monkeypatch):
    from gateway.api import ops

    original = ops.build_summary

    def logged(svc, limit=100):
        structlog.get_logger("gateway.api.ops").info("summary built")
        return original(svc, limit)

    monkeypatch.setattr(ops, "build_summary", logged)
    from gateway.access.testing import headers_for

    with app.test_client(headers=headers_for(operator_key)) as client:
        r = client.get("/v1/ops/summary", headers={"X-Request-Id": "req-42"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42"
    line = next(x for x in _lines(captured) if x.get("event") == "summary built")
    assert line["request_id"] == "req-42" and line["level"] == "info"


async def test_a_request_slower_than_the_timeout_gets_503_problem():
    from gateway.api.timeouts import TimeoutMiddleware

    async def slow(scope, receive, send):
        await asyncio.sleep(5)

    async def fast(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.3)  # started answering: no longer bounded
        await send({"type": "http.response.body", "body": b"ok"})

    for inner, expected in ((slow, 503), (fast, 200)):
        sent = []

        async def send(message, sent=sent):
            sent.append(message)

        await TimeoutMiddleware(inner, seconds=0.1)({"type": "http", "method": "GET", "path": "/x"}, None, send)
        assert sent[0]["status"] == expected
        if expected == 503:
            body = json.loads(sent[1]["body"])
            assert body["type"] == "urn:gateway:problem:request-timeout"
            assert (b"retry-after", b"5") in sent[0]["headers"]
