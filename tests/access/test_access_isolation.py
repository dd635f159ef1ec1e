"""Agency isolation: an agency key reads the records it provided and a minimised view of their
subjects; nothing of another agency's records (their ids, versions or contents)."""

from __future__ import annotations

import json

import pytest

from tests.access.access_helpers import publish_proposed, violation
from tests.factories import accident, make_uscc, penalty

SHARED = make_uscc(41)  # both agencies hold records about it
THEIRS = make_uscc(42)  # only MY-AJJ does


@pytest.fixture
def seeded(authed, access):
    my = authed("agency")  # MY-AJJ
    fc = authed("agency", agency="FC-AJJ", seq=118)  # a second agency partner
    r1 = my.post("/v1/records", json=penalty("P-MY-1", SHARED))
    r2 = fc.post("/v1/records", json=accident("A-FC-1", SHARED, "2025-02-03"))
    r3 = my.post("/v1/records", json=violation("V-MY-2", THEIRS))
    for r in (r1, r2, r3):
        assert r.status_code == 201, r.text
    # a second version of MY-AJJ's record: its history must not leak either
    changed = penalty("P-MY-1", SHARED, decided="2025-05-21")
    r4 = my.post("/v1/records", json=changed)
    assert r4.status_code == 201, r4.text
    access.consumer.drain()
    return {"my": my, "fc": fc, "my_record": r1.json()["record_id"], "my_current": r4.json()["record_id"],
            "fc_record": r2.json()["record_id"],
            "their_only": r3.json()["record_id"]}


def test_an_agency_cannot_read_another_agencys_record_by_id(seeded):
    r = seeded["fc"].get(f"/v1/records/{seeded['my_record']}")
    assert r.status_code == 404, r.text
    assert seeded["my_record"] not in r.text or "record-not-found" in r.text
    assert "versions" not in r.json()


def test_an_agency_reads_its_own_record_with_its_history(seeded):
    r = seeded["my"].get(f"/v1/records/{seeded['my_record']}")
    assert r.status_code == 200 and len(r.json()["versions"]) >= 1
    assert {v["agency"] for v in r.json()["versions"]} == {"MY-AJJ"}


def test_an_operator_still_reads_any_record(seeded, operator):
    assert operator.get(f"/v1/records/{seeded['fc_record']}").status_code == 200


def test_a_subject_file_shows_an_agency_only_its_own_records(seeded):
    body = seeded["fc"].get(f"/v1/subjects/{SHARED}").json()
    agencies = {e["agency"] for kind in body["records"].values() for e in kind}
    assert agencies == {"FC-AJJ"}
    text = json.dumps(body, ensure_ascii=False)
    assert seeded["my_record"] not in text and seeded["my_current"] not in text
    assert "P-MY-1" not in text and "CF_WFXW" not in text


def test_a_subject_the_agency_never_reported_is_404_for_it(seeded):
    r = seeded["fc"].get(f"/v1/subjects/{THEIRS}")
    assert r.status_code == 404, r.text
    assert seeded["my"].get(f"/v1/subjects/{THEIRS}").status_code == 200


def test_decisions_of_a_subject_the_agency_never_reported_are_404(seeded):
    r = seeded["fc"].get(f"/v1/subjects/{THEIRS}/decisions")
    assert r.status_code == 404, r.text
    assert seeded["my"].get(f"/v1/subjects/{THEIRS}/decisions").status_code == 200


def test_decisions_name_no_record_of_another_agency(seeded, operator):
    full = json.dumps(operator.get(f"/v1/subjects/{SHARED}/decisions").json())
    assert seeded["my_current"] in full  # the operator's view does name it (so the check below can fail)
    r = seeded["fc"].get(f"/v1/subjects/{SHARED}/decisions")
    assert r.status_code == 200, r.text
    text = json.dumps(r.json())
    assert seeded["my_current"] not in text and seeded["my_record"] not in text
    assert seeded["fc_record"] in text or "rec_" not in text


def test_list_entries_name_no_record_of_another_agency(seeded, operator):
    [entry] = operator.get("/v1/list-entries", params={"subject": THEIRS}).json()["items"]
    assert entry["record_uids"]  # the operator sees them (so the checks below can fail)
    listed = seeded["fc"].get("/v1/list-entries", params={"subject": THEIRS})
    assert listed.status_code == 200, listed.text
    assert seeded["their_only"] not in listed.text
    one = seeded["fc"].get(f"/v1/list-entries/{entry['id']}")
    assert one.status_code == 200 and seeded["their_only"] not in one.text
    assert seeded["their_only"] in seeded["my"].get(f"/v1/list-entries/{entry['id']}").text


def test_the_credit_answer_names_no_record_of_another_agency(seeded, operator, access):
    publish_proposed(access)
    assert seeded["their_only"] in operator.get(f"/v1/credit/{THEIRS}").text
    r = seeded["fc"].get(f"/v1/credit/{THEIRS}")
    assert r.status_code == 200 and seeded["their_only"] not in r.text
    assert seeded["their_only"] in seeded["my"].get(f"/v1/credit/{THEIRS}").text
