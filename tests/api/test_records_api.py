"""Record intake through the ASGI app: outcomes, versions, idempotency, hostile input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.store.tables import records
from tests.factories import accident, licence, make_uscc, penalty

A = make_uscc(1)
B = make_uscc(2)


def post(client, body, agency="MY-AJJ", **headers):
    return client.post(f"/v1/records?agency={agency}", json=body, headers=headers)


def batch(client, recs, agency="MY-AJJ", **headers):
    return client.post(f"/v1/records:batch?agency={agency}", json={"records": recs}, headers=headers)


def count_records(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(records)).scalar_one()


def test_a_new_penalty_is_accepted_with_its_publication_deadline(client):
    r = post(client, penalty("P1", A, decided="2025-05-20"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "accepted" and body["version"] == 1 and body["subject"] == A
    assert body["publish_by"] == "2025-05-29"  # 7 working days after Tue 20 May 2025
    assert body["publish_by_estimated"] is False


def test_publish_by_counts_the_national_day_holiday_and_make_up_days(client):
    # Fri 26 Sep 2025: Sun 28 Sep and Sat 11 Oct are make-up working days, 1-8 Oct are holidays
    r = post(client, penalty("P1", A, decided="2025-09-26"))
    assert r.json()["publish_by"] == "2025-10-13"


def test_a_year_the_official_calendar_lacks_gives_an_estimated_deadline(client):
    r = post(client, penalty("P1", A, decided="2027-03-01"))
    assert r.status_code == 201
    assert r.json()["publish_by"] == "2027-03-10" and r.json()["publish_by_estimated"] is True


def test_the_same_record_again_is_a_duplicate_and_changes_nothing(client, db):
    assert post(client, penalty("P1", A)).status_code == 201
    r = post(client, penalty("P1", A))
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate" and r.json()["version"] == 1
    assert count_records(db) == 1


def test_a_correction_supersedes_and_history_is_kept(client):
    first = post(client, penalty("P1", A)).json()
    corrected = penalty("P1", A, CF_NR_FK="3")
    r = post(client, {**corrected, "reason": "金额更正"})
    assert r.status_code == 201 and r.json()["outcome"] == "superseded" and r.json()["version"] == 2
    history = client.get(f"/v1/records/{r.json()['record_id']}").json()["versions"]
    assert [(v["version"], v["status"]) for v in history] == [(1, "superseded"), (2, "current")]
    assert history[1]["supersedes"] == first["record_id"]
    assert history[0]["data"]["CF_NR_FK"] == "2" and history[1]["data"]["CF_NR_FK"] == "3"


def test_a_withdrawal_retracts_the_record_and_a_second_one_is_a_duplicate(client):
    post(client, penalty("P1", A))
    r = post(client, {"source_record_id": "P1", "action": "withdraw", "reason": "撤销处罚决定"})
    assert r.status_code == 201 and r.json()["status"] == "withdrawn" and r.json()["version"] == 2
    again = post(client, {"source_record_id": "P1", "action": "withdraw"})
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    file = client.get(f"/v1/subjects/{A}").json()
    entry = file["records"]["penalty"][0]
    assert entry["status"] == "withdrawn" and len(entry["versions"]) == 2


def test_withdrawing_an_unknown_record_is_rejected_with_a_reason(client):
    r = post(client, {"source_record_id": "nope", "action": "withdraw"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"] == "unknown_record"


def test_a_correction_may_not_change_the_kind(client):
    post(client, penalty("X1", A))
    r = post(client, accident("X1", A, "2025-01-01"))
    assert r.status_code == 422 and r.json()["errors"][0]["reason"] == "kind_mismatch"


def test_source_record_ids_are_per_agency(client):
    assert post(client, penalty("P1", A), agency="MY-AJJ").json()["outcome"] == "accepted"
    assert post(client, penalty("P1", A), agency="FC-AJJ").json()["outcome"] == "accepted"


def test_a_batch_stores_valid_records_and_reports_each_bad_one_precisely(client, db):
    bad_check = A[:-1] + ("0" if A[-1] != "0" else "1")
    recs = [
        penalty("P1", A),
        penalty("P2", bad_check),
        {**accident("A1", B, "2025-03-01"), "colour": "red"},
        accident("A2", B, "2025-13-01"),
        licence("L1", B),
        "not an object",
    ]
    r = batch(client, recs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"] == {"accepted": 2, "duplicate": 0, "superseded": 0, "rejected": 4}
    out = body["results"]
    assert [o["index"] for o in out] == [0, 1, 2, 3, 4, 5]
    assert out[1]["problems"][0]["field"] == "subject.uscc"
    assert out[1]["problems"][0]["reason"] == "invalid_checksum"
    assert {"field": "colour", "reason": "unknown_field"}.items() <= out[2]["problems"][0].items()
    assert out[3]["problems"][0]["field"] == "data.occurred_on"
    assert out[3]["problems"][0]["reason"] == "bad_date"
    assert out[5]["problems"][0]["reason"] == "not_an_object"
    assert count_records(db) == 2


def test_a_typing_slip_in_the_uscc_gets_a_suggestion_but_is_not_fixed(client):
    slipped = A[:10] + "O" + A[11:] if A[10] == "0" else A.replace("0", "O", 1)
    r = post(client, penalty("P1", slipped))
    assert r.status_code == 422
    problem = r.json()["errors"][0]
    assert problem["reason"] == "invalid_character"
    assert problem["suggestion"] == A


def test_full_width_and_spaced_codes_are_normalised_to_one_subject(client):
    wide = "".join(chr(ord(c) + 0xFEE0) for c in A[:9]) + " " + A[9:].lower()
    assert post(client, penalty("P1", wide)).json()["subject"] == A
    assert post(client, accident("A1", A, "2025-01-01")).json()["subject"] == A
    file = client.get(f"/v1/subjects/{A}").json()
    assert set(file["records"]) == {"penalty", "accident"}


def test_an_unknown_agency_is_a_problem_not_a_crash(client):
    r = post(client, penalty("P1", A), agency="NOBODY")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "urn:gateway:problem:unknown-agency"


def test_an_idempotency_key_replays_the_first_answer(client, db):
    first = batch(client, [penalty("P1", A)], **{"Idempotency-Key": "k-1"}).json()
    again = batch(client, [penalty("P1", A)], **{"Idempotency-Key": "k-1"}).json()
    assert again == first and again["counts"]["accepted"] == 1
    assert count_records(db) == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(client):
    batch(client, [penalty("P1", A)], **{"Idempotency-Key": "k-1"})
    r = batch(client, [penalty("P2", A)], **{"Idempotency-Key": "k-1"})
    assert r.status_code == 409 and r.json()["type"].endswith("idempotency-key-reused")


def test_a_crash_mid_batch_leaves_nothing_half_written(client, db, monkeypatch):
    from gateway.intake import repository as intake_repo

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(intake_repo, "record_identifiers_and_names", boom)
    r = batch(client, [penalty("P1", A), penalty("P2", B)])
    assert r.status_code == 500
    assert r.json()["type"] == "urn:gateway:problem:internal-error"
    assert "disk on fire" not in r.text
    assert count_records(db) == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"{not json", "application/json"), (b"[]", "application/json"), (b'{"records": 5}', "application/json")],
)
def test_malformed_bodies_get_problem_json_not_a_500(client, body, content_type):
    r = client.post("/v1/records:batch?agency=MY-AJJ", content=body, headers={"content-type": content_type})
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_body_over_the_limit_is_refused_with_413(services, agencies, db):
    from gateway.app import create_app

    services.settings.max_body_bytes = 2048
    with create_app(services).test_client() as small:
        r = batch(small, [penalty(f"P{i}", A) for i in range(50)])
        assert r.status_code == 413 and r.json()["type"].endswith("body-too-large")
        chunked = small.post("/v1/records:batch?agency=MY-AJJ", content=iter([b'{"records": [' + b" " * 4096, b"]}"]),
                             headers={"content-type": "application/json"})
        assert chunked.status_code == 413
    assert count_records(db) == 0


def test_a_natural_persons_id_number_is_masked_in_the_credit_file(client):
    person_id = "11010519491231002X"
    rec = penalty("P9", A)
    rec["data"].pop("CF_XDR_SHXYM")
    rec["data"].update({"CF_XDR_MC": "张三", "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": person_id})
    r = post(client, rec)
    assert r.status_code == 201, r.text
    key = r.json()["subject"]
    assert person_id not in key
    file = client.get(f"/v1/subjects/{key}")
    assert file.status_code == 200
    assert person_id not in file.text
    assert file.json()["display_id"].startswith("110105") and "*" in file.json()["display_id"]


@pytest.mark.parametrize("path", ["/v1/records/a%0Ab", "/v1/no-such-thing"])
def test_a_path_no_operation_answers_is_a_problem_of_the_gateway(client, path):
    # Starlette's own 404 (a newline in a path parameter matches no route) answered "about:blank",
    # a type the spec's Problem does not list (found by the contract run)
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "urn:gateway:problem:not-found"


def test_an_upload_answered_503_at_the_deadline_stored_nothing(db, tmp_path, clock, monkeypatch):
    # an upload still being stored when the request timeout answers 503 used to commit later
    # ("503 while the work goes on"); now it rolls back at the deadline: the 503 is true, and
    # sending the same upload again stores it once
    import time

    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import repository as intake_repo
    from gateway.store.change_tables import subject_changes

    services = build(load_settings(database_url=db.url, keys_dir=tmp_path / "keys", request_timeout_seconds=0.5),
                     db=db, clock=clock)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=clock.now())
    real = intake_repo.record_identifiers_and_names
    slow = {"on": True}

    def slow_database(*args, **kwargs):  # the fault: the database is slow today
        if slow["on"]:
            time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_repo, "record_identifiers_and_names", slow_database)
    recs = [penalty(f"P{i}", make_uscc(100 + i)) for i in range(50)]
    with create_app(services).test_client(headers=headers_for(issue(services, "agency", agency="MY-AJJ"))) as c:
        r = c.post("/v1/records:batch?agency=MY-AJJ", json={"records": recs})
        assert r.status_code == 503 and r.json()["type"] == "urn:gateway:problem:request-timeout"
        time.sleep(1.5)  # the handler's thread has come to its commit, and rolled back
        assert count_records(db) == 0
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(subject_changes)).scalar_one() == 0

        slow["on"] = False
        r = c.post("/v1/records:batch?agency=MY-AJJ", json={"records": recs})
        assert r.status_code == 200 and r.json()["counts"]["accepted"] == 50
    assert count_records(db) == 50


def test_a_file_import_past_the_deadline_keeps_the_parts_stored_before_and_a_resend_completes_it(
        db, tmp_path, clock, monkeypatch):
    # a file is stored in parts of 10,000 records (here 10), each its own transaction: the
    # parts committed before the deadline stay, none starts after it, and sending the same file
    # again stores the rest while the stored records answer duplicate
    import csv
    import functools
    import io
    import time

    from gateway.access.testing import headers_for, issue
    from gateway.api import records as records_api
    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import importing
    from gateway.intake import repository as intake_repo

    services = build(load_settings(database_url=db.url, keys_dir=tmp_path / "keys", request_timeout_seconds=0.5),
                     db=db, clock=clock)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=clock.now())
    monkeypatch.setattr(records_api, "import_file", functools.partial(importing.import_file, chunk_size=10))
    real = intake_repo.record_identifiers_and_names
    slow = {"on": True, "calls": 0}

    def slow_database(*args, **kwargs):
        slow["calls"] += 1
        if slow["on"] and slow["calls"] == 3:
            time.sleep(1.0)  # the third part meets a slow database: past the deadline
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_repo, "record_identifiers_and_names", slow_database)
    rows = [penalty(f"P{i}", make_uscc(200 + i))["data"] for i in range(50)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    body = out.getvalue().encode()
    with create_app(services).test_client(headers=headers_for(issue(services, "agency", agency="MY-AJJ"))) as c:
        post = functools.partial(c.post, "/v1/records:import?agency=MY-AJJ&kind=penalty", content=body,
                                 headers={"Content-Type": "text/csv"})
        r = post()
        assert r.status_code == 503
        time.sleep(1.5)
        stored = count_records(db)
        assert stored == 20  # the two parts before; the third rolled back; the rest never started
        slow["on"] = False
        r = post()
        assert r.status_code == 200
        counts = r.json()["counts"]
        assert counts["duplicate"] == stored and counts["accepted"] == 50 - stored
    assert count_records(db) == 50
