"""What a newcomer meets first over HTTP: 401 answers that say why and how to authenticate,
and the API docs (Swagger UI)."""

from __future__ import annotations

from tests.factories import make_uscc


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


def test_a_replayed_rejected_record_without_source_id_answers_as_first_time(operator):
    # found by the contract run: the stored answer leaves out empty fields, the replay needs them
    headers = {"Idempotency-Key": "replay-empty-1"}
    first = operator.post("/v1/records", params={"agency": "MY-AJJ"}, json={}, headers=headers)
    again = operator.post("/v1/records", params={"agency": "MY-AJJ"}, json={}, headers=headers)
    assert first.status_code in (400, 422) and again.status_code == first.status_code, again.text
    assert again.json() == first.json()
