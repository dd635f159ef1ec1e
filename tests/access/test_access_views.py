"""What each sector sees: measures for its own sector only, ID numbers masked outside agencies."""

from __future__ import annotations

import json

import pytest

from tests.access.access_helpers import (
    CLEAN,
    LISTED,
    PERSON_ID,
    insert_list_entry,
    seed_listed_subject,
    violation,
)
from tests.factories import penalty


@pytest.fixture
def listed(authed, access):
    seed_listed_subject(authed("agency"), access)
    return LISTED


def test_a_land_office_sees_the_land_bidding_restriction_and_its_legal_basis(authed, listed):
    body = authed("land").get(f"/v1/credit/{listed}").json()
    assert body["standing"] == "restricted"
    assert {m["receiver"] for m in body["measures"]} == {"land"}
    land = [m for m in body["measures"] if m["list_kind"] == "joint_punishment"][0]
    assert "土地" in land["text_zh"] and land["legal_basis"] and land["source"]
    jp = [x for x in body["lists"] if x["list_kind"] == "joint_punishment"][0]
    assert jp["listed"] and jp["starts_on"] and jp["expires_on"] and jp["reasons"]


def test_a_bank_does_not_see_land_measures(authed, listed):
    body = authed("finance").get(f"/v1/credit/{listed}").json()
    assert body["measures"] and {m["receiver"] for m in body["measures"]} == {"finance"}
    assert "土地" not in json.dumps(body["measures"], ensure_ascii=False)


@pytest.mark.parametrize("sector", ["finance", "insurance", "land", "securities", "approval", "trading", "platform", "operator"])
def test_no_full_id_number_outside_the_agencies(authed, listed, sector):
    text = authed(sector).get(f"/v1/credit/{listed}").text
    assert PERSON_ID not in text
    assert PERSON_ID[:6] + "********" + PERSON_ID[-4:] in text


def test_an_agency_sees_the_full_id_number_and_the_records_behind_a_listing(authed, listed):
    body = authed("agency").get(f"/v1/credit/{listed}").json()
    assert body["persons"][0]["id_number"] == PERSON_ID
    jp = [x for x in body["lists"] if x["list_kind"] == "joint_punishment"][0]
    assert jp["record_ids"] and jp["reasons"][0]["record_ids"]
    assert {m["receiver"] for m in body["measures"]} >= {"land", "finance", "securities"}


def test_partners_get_reasons_without_record_ids(authed, listed):
    body = authed("securities").get(f"/v1/credit/{listed}").json()
    jp = [x for x in body["lists"] if x["list_kind"] == "joint_punishment"][0]
    assert "record_ids" not in jp and all("record_ids" not in r for r in jp["reasons"])


def test_a_clean_subject_is_clear_with_no_measures(authed):
    authed("agency").post("/v1/records", json=penalty("P9", CLEAN))
    body = authed("finance").get(f"/v1/credit/{CLEAN}").json()
    assert body["standing"] == "clear" and body["measures"] == [] and body["lists"] == []
    assert body["last_change"] and body["ratings"]["supervision"]["tier"]


def test_unknown_code_is_404_with_the_normalised_code(authed):
    from tests.factories import make_uscc

    code = make_uscc(999)
    r = authed("finance").get(f"/v1/credit/{code.lower()}")
    assert r.status_code == 404 and r.json()["normalized"] == code
    assert r.headers["content-type"].startswith("application/problem+json")


def test_invalid_code_is_400_with_the_identifier_error(authed):
    bad = LISTED[:-1] + ("0" if LISTED[-1] != "0" else "1")
    r = authed("finance").get(f"/v1/credit/{bad}")
    assert r.status_code == 400
    body = r.json()
    assert body["type"].endswith("identifier-invalid") and body["errors"][0]["reason"] == "invalid_checksum"


def test_a_proposed_entry_restricts_nobody_until_it_is_published(authed, access):
    # the engine makes the subject a candidate, but nothing is published yet: partners see it clear
    authed("agency").post("/v1/records", json=violation("V-X", LISTED))
    assert authed("land").get(f"/v1/credit/{LISTED}").json()["standing"] == "clear"
    uid = insert_list_entry(access, LISTED)
    body = authed("land").get(f"/v1/credit/{LISTED}").json()
    assert body["standing"] == "restricted" and body["list_source"] == "entries"
    assert body["lists"][0]["entry"] == uid and body["lists"][0]["state"] == "published"
    assert "record_ids" not in body["lists"][0]["reasons"][0]
