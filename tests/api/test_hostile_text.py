"""Text that is not Unicode, or that XML cannot carry, is refused or made safe: never a 500."""

from __future__ import annotations

import json

import pytest


def _post(client, path: str, body: dict):
    return client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("path,body", [
    ("/v1/eligibility:check", {"purpose": "land_auction", "bidders": ["\ud800"]}),
    ("/v1/records?agency=MY-AJJ", {"kind": "accident", "source_record_id": "\udfff", "data": {}}),
])
def test_a_lone_surrogate_is_a_400_problem(client, path, body):
    r = _post(client, path, body)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


def test_control_characters_in_a_bidder_code_still_give_a_signed_report(client):
    r = _post(client, "/v1/eligibility:check", {"purpose": "land_auction", "bidders": ["x\u001fy", "\u0007"]})
    assert r.status_code == 200, r.text
    assert [b["status"] for b in r.json()["bidders"]] == ["invalid", "invalid"]


def test_a_nul_character_is_never_a_500(client):
    r = _post(client, "/v1/eligibility:check", {"purpose": "land_auction", "bidders": ["x\u0000y"]})
    assert r.status_code in (200, 400), r.text


def test_a_body_that_is_not_utf8_is_a_400_problem(client):
    r = client.post("/v1/records?agency=MY-AJJ", content=b'{"kind": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
