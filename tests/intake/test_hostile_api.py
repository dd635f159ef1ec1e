"""Bounded parsing through the HTTP API: each refusal is a 4xx problem with a stable type, JSON
bodies beyond the depth and number limits answer 400 (never 500), XML-unsafe characters are
refused with the field and the position, and a request that reaches its timeout stops reading."""

from __future__ import annotations

import csv
import io
import time

import pytest
from sqlalchemy import func, select

from gateway.store.tables import records
from tests.factories import make_uscc, penalty
from tests.intake import hostile_corpus as corpus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BASE = "urn:gateway:problem:"


def _count(db) -> int:  # noqa: ANN001
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(records)).scalar_one()


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    ("make", "content_type", "problem", "setting"),
    [
        (corpus.xlsx_wide_row, XLSX, "archive-too-large", "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES"),
        (corpus.xlsx_blank_rows, XLSX, "archive-too-large", "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES"),
        (corpus.xlsx_huge_string, XLSX, "archive-too-large", "GATEWAY_INTAKE_XLSX_MAX_UNCOMPRESSED_BYTES"),
        (lambda: corpus.xlsx_blank_rows(2_000_000), XLSX, "compression-ratio",
         "GATEWAY_INTAKE_XLSX_MAX_COMPRESSION_RATIO"),
        (lambda: corpus.xlsx_huge_string(40_000), XLSX, "cell-too-long", "GATEWAY_INTAKE_MAX_CELL_CHARS"),
        (corpus.csv_wide_header, "text/csv", "too-many-columns", "GATEWAY_INTAKE_MAX_COLUMNS"),
    ],
)
def test_a_hostile_file_is_a_413_problem_naming_its_limit(client, db, make, content_type, problem, setting) -> None:
    started = time.monotonic()
    r = client.post("/v1/records:import?agency=MY-AJJ&kind=penalty", content=make(),
                    headers={"Content-Type": content_type})
    assert time.monotonic() - started < 5
    assert r.status_code == 413, r.text
    body = r.json()
    assert (body["type"], body["setting"]) == (BASE + problem, setting)
    assert body["limit"] > 0
    assert _count(db) == 0


def test_a_file_of_more_rows_than_the_setting_is_a_413_too_many_rows(db, tmp_path, clock) -> None:
    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import repository as intake_repo

    services = build(load_settings(database_url=db.url, keys_dir=tmp_path / "keys", intake_max_rows=5),
                     db=db, clock=clock)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=clock.now())
    body = _csv([penalty(f"R{i}", make_uscc(300 + i))["data"] for i in range(6)])
    with create_app(services).test_client(headers=headers_for(issue(services, "agency", agency="MY-AJJ"))) as c:
        r = c.post("/v1/records:import?agency=MY-AJJ&kind=penalty", content=body, headers={"Content-Type": "text/csv"})
        assert r.status_code == 413
        assert (r.json()["type"], r.json()["limit"]) == (BASE + "too-many-rows", 5)
        r = c.post("/v1/records:import?agency=MY-AJJ&kind=penalty", content=body.rsplit(b"\r\n", 2)[0] + b"\r\n",
                   headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and r.json()["counts"]["accepted"] == 5


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (corpus.json_deep(), "json-too-deep"),
        (b'{"records": [' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"]}", "json-too-deep"),
        (b"[" * 1_000_000, "json-too-deep"),  # not even closed
        (corpus.json_long_integer(), "json-number-too-long"),
        (b'{"records": [{"kind": "penalty", "data": {"CF_NR_FK": 1.' + b"0" * 100 + b"}}]}", "json-number-too-long"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/records:batch?agency=MY-AJJ", "/v1/records?agency=MY-AJJ"])
def test_json_beyond_the_depth_or_number_limit_is_400_never_500(client, path, body, problem) -> None:
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["type"] == BASE + problem


def test_json_within_the_limits_passes_even_with_brackets_and_digits_inside_strings(client) -> None:
    record = penalty("S1", make_uscc(310), CF_WFXW="[[[[" * 20 + "9" * 100 + '"\\"{')
    r = client.post("/v1/records?agency=MY-AJJ", json=record)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("text", "char", "position"),
    [("违法\uffff事实", "U+FFFF", 3), ("a\ufffe", "U+FFFE", 2), ("ab\x01", "U+0001", 3), ("\x1b[0m", "U+001B", 1)],
)
def test_a_json_record_with_an_xml_unsafe_character_is_refused_with_field_and_position(
        client, db, text, char, position) -> None:
    r = client.post("/v1/records?agency=MY-AJJ", json=penalty("U1", make_uscc(320), CF_WFXW=text))
    assert r.status_code == 422, r.text
    [error] = [e for e in r.json()["errors"] if e["reason"] == "not_xml_character"]
    assert error["field"] == "data.CF_WFXW"
    assert f"{char} at position {position}" in error["message"]
    assert _count(db) == 0


def test_a_lone_surrogate_is_refused_with_its_field(client) -> None:
    body = b'{"kind": "penalty", "source_record_id": "U2", "subject": {"name": "a\\ud800b"}, "data": {}}'
    r = client.post("/v1/records?agency=MY-AJJ", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert {"field": "subject.name", "reason": "not_xml_character"}.items() <= r.json()["errors"][0].items()
    assert "U+D800 at position 2" in r.json()["errors"][0]["message"]


def test_tab_and_newline_are_fine(client) -> None:
    r = client.post("/v1/records?agency=MY-AJJ", json=penalty("U3", make_uscc(321), CF_WFXW="第一\t第二\n第三"))
    assert r.status_code == 201, r.text


def test_an_imported_row_with_a_control_character_is_rejected_with_its_row_field_and_position(client, db) -> None:
    rows = [penalty(f"C{i}", make_uscc(330 + i))["data"] for i in range(3)]
    rows[1]["CF_WFXW"] = "未培训\x07"
    r = client.post("/v1/records:import?agency=MY-AJJ&kind=penalty", content=_csv(rows),
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["accepted"] == 2 and body["counts"]["rejected"] == 1
    [bad] = [x for x in body["results"] if x["outcome"] == "rejected"]
    assert bad["row"] == 3
    assert [(p["field"], p["reason"]) for p in bad["problems"]] == [("data.CF_WFXW", "not_xml_character")]
    assert "U+0007 at position 4" in bad["problems"][0]["message"]


def test_an_import_that_reaches_its_timeout_stops_reading(db, tmp_path, clock, monkeypatch) -> None:
    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import files
    from gateway.intake import repository as intake_repo

    services = build(load_settings(database_url=db.url, keys_dir=tmp_path / "keys", request_timeout_seconds=0.3),
                     db=db, clock=clock)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=clock.now())
    seen = {"rows": 0}
    real = files._blank

    def slow_row(cells):  # noqa: ANN001, ANN202 - the fault: each row takes a millisecond to read
        seen["rows"] += 1
        time.sleep(0.001)
        return real(cells)

    monkeypatch.setattr(files, "_blank", slow_row)
    body = _csv([penalty(f"T{i}", make_uscc(400 + i % 50))["data"] for i in range(5_000)])
    with create_app(services).test_client(headers=headers_for(issue(services, "agency", agency="MY-AJJ"))) as c:
        r = c.post("/v1/records:import?agency=MY-AJJ&kind=penalty", content=body, headers={"Content-Type": "text/csv"})
        assert r.status_code == 503 and r.json()["type"] == BASE + "request-timeout"
        time.sleep(3)  # the reading would take 5 s more if it went on
    assert seen["rows"] <= 2_000  # it stopped at the first deadline check past 0.3 s
    assert _count(db) == 0
