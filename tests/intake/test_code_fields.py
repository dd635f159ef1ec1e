"""Every code-bearing field is checked for what it is: the authorities' codes (处罚机关 / 许可机关 /
数据来源单位 统一社会信用代码) are USCCs, and so is the gateway's own issuer setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings
from tests.factories import licence, make_uscc, penalty

A = make_uscc(41)
BAD = "11510700MB1234567X"  # the embedded organisation code's check character is wrong
GATEWAY = str(Path(sys.executable).parent / "gateway")


def _problems(client, record: dict) -> list[dict]:
    r = client.post("/v1/records?agency=MY-AJJ", json=record)
    assert r.status_code == 422, r.text
    return r.json()["errors"]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: penalty("1", A, CF_CFJGDM=BAD), "data.CF_CFJGDM"),
        (lambda: penalty("1", A, CF_SJLYDM=BAD), "data.CF_SJLYDM"),
        (lambda: {**licence("1", A), "data": {**licence("1", A)["data"], "XK_XKJGDM": BAD}}, "data.XK_XKJGDM"),
        (lambda: {**licence("1", A), "data": {**licence("1", A)["data"], "XK_LYDWDM": "915107"}}, "data.XK_LYDWDM"),
    ],
)
def test_an_authority_code_that_is_no_valid_uscc_is_rejected_with_the_identifier_reason(client, build, field):
    problems = _problems(client, build())

    assert [p["field"] for p in problems] == [field]
    assert problems[0]["reason"] in ("invalid_org_code_checksum", "invalid_length")


def test_a_typing_slip_in_an_authority_code_comes_with_what_was_probably_meant(client):
    good = "11510700MB12345623"
    slipped = good[:10] + "I" + good[11:]  # 1 typed as I
    problems = _problems(client, penalty("1", A, CF_CFJGDM=slipped))

    assert problems[0]["reason"] == "invalid_character"
    assert problems[0]["suggestion"] == good


def test_a_valid_authority_code_is_stored_normalised(client):
    r = client.post("/v1/records?agency=MY-AJJ", json=penalty("1", A, CF_CFJGDM="11510700mb12345623"))
    assert r.status_code == 201, r.text
    rec = client.get(f"/v1/records/{r.json()['record_id']}").json()["versions"][0]
    assert rec["data"]["CF_CFJGDM"] == "11510700MB12345623"


def test_the_default_issuer_uscc_is_itself_valid():
    from gateway.domain.identifiers import uscc

    assert uscc.is_valid(load_settings().issuer_uscc)


def test_an_invalid_issuer_uscc_stops_the_start_naming_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="GATEWAY_ISSUER_USCC"):
        load_settings(issuer_uscc=BAD)
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "GATEWAY_ISSUER_USCC": BAD}
    done = subprocess.run([GATEWAY, "changes", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "configuration error: GATEWAY_ISSUER_USCC" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_field_comes_with_the_field_probably_meant(client):
    record = penalty("1", A)
    record["data"]["CF_JDRQI"] = record["data"].pop("CF_JDRQ")
    problems = {p["field"]: p for p in _problems(client, record)}
    assert problems["data.CF_JDRQI"]["reason"] == "unknown_field"
    assert problems["data.CF_JDRQI"]["suggestion"] == "CF_JDRQ"


def test_a_penalty_sent_under_the_gateways_former_codes_is_stored_under_the_platforms_codes(client):
    record = penalty("1", A)
    record["data"]["CF_XZCFJDSWH"] = record["data"].pop("CF_WSH")
    record["data"]["CF_WFSS"] = record["data"].pop("CF_SY")
    r = client.post("/v1/records?agency=MY-AJJ", json=record)
    assert r.status_code == 201, r.text
    data = client.get(f"/v1/records/{r.json()['record_id']}").json()["versions"][0]["data"]
    assert data["CF_WSH"] == "绵应急罚〔2025〕1号" and "CF_XZCFJDSWH" not in data and "CF_SY" in data
    again = client.post("/v1/records?agency=MY-AJJ", json=penalty("1", A))
    assert again.json()["outcome"] == "duplicate"


def test_an_xml_file_under_the_former_codes_imports(client):
    data = penalty("1", A)["data"]
    data["CF_XZCFJDSWH"], data["CF_WFSS"] = data.pop("CF_WSH"), data.pop("CF_SY")
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in data.items())
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><records xmlns="urn:safety-credit:records:1">'
           f'<record kind="penalty" sourceRecordId="X-1"><data>{fields}</data></record></records>').encode()
    r = client.post("/v1/records:import?agency=MY-AJJ", content=xml, headers={"content-type": "application/xml"})
    assert r.json()["counts"]["accepted"] == 1, r.json()
