"""Watchlists (贷后监控) through the HTTP API: register, read back, change, poll, notify."""

from __future__ import annotations

import pytest

from gateway.delivery import bulletin_store, outbox
from gateway.publication.bulletin import parse_bulletin
from gateway.signing.dsig import Trust
from tests.access.access_helpers import CLEAN, LISTED, seed_listed_subject
from tests.factories import make_uscc
from tests.watchlists.conftest import BANK_DESTINATION


def register(client, subjects, mode="poll", **kw):  # noqa: ANN001, ANN003, ANN201
    r = client.post("/v1/watchlists", json={"name": "对公贷款", "mode": mode, "subjects": subjects, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_bank_registers_a_watchlist_and_reads_it_back(authed):
    bank = authed("finance")
    r = bank.post("/v1/watchlists", json={"name": "对公贷款", "mode": "poll",
                                          "subjects": [LISTED, {"uscc": CLEAN, "reference": "LOAN-0001"}]})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["subjects"] == 2 and made["sector"] == "finance" and made["mode"] == "poll"
    assert r.headers["location"] == f"/v1/watchlists/{made['id']}"
    assert bank.get(r.headers["location"]).json()["subjects"] == 2
    listed = bank.get(f"/v1/watchlists/{made['id']}/subjects").json()["subjects"]
    assert {(s["uscc"], s["reference"]) for s in listed} == {(LISTED, None), (CLEAN, "LOAN-0001")}
    assert [w["id"] for w in bank.get("/v1/watchlists").json()["watchlists"]] == [made["id"]]


def test_another_partner_cannot_see_or_change_a_bank_s_watchlist(authed):
    made = register(authed("finance"), [LISTED])
    other = authed("finance", seq=2)
    for r in (other.get(f"/v1/watchlists/{made['id']}"), other.get(f"/v1/watchlists/{made['id']}/changes"),
              other.post(f"/v1/watchlists/{made['id']}/subjects", json=[CLEAN]),
              other.delete(f"/v1/watchlists/{made['id']}")):
        assert r.status_code == 404, r.text
        assert r.json()["type"].endswith("watchlist-not-found")
    assert other.get("/v1/watchlists").json()["watchlists"] == []


def test_a_land_office_may_not_keep_a_watchlist(authed):  # its key lacks the scope
    r = authed("land").post("/v1/watchlists", json={"mode": "poll", "subjects": [LISTED]})
    assert r.status_code == 403
    assert r.json()["type"].endswith("scope-missing")


def test_one_invalid_code_refuses_the_whole_registration_naming_each_row(authed):
    bank = authed("finance")
    bad_check = LISTED[:-1] + ("0" if LISTED[-1] != "0" else "1")
    r = bank.post("/v1/watchlists", json={"mode": "poll", "subjects": [CLEAN, bad_check, "abc"]})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["type"].endswith("watchlist-invalid")
    assert [b["row"] for b in problem["invalid"]] == [2, 3]
    assert problem["invalid"][0]["value"] == bad_check
    assert bank.get("/v1/watchlists").json()["watchlists"] == []


def test_a_csv_registration_then_incremental_adds_and_removals(authed):
    bank = authed("finance")
    csv_body = f"uscc,reference\n{LISTED},L-1\n{CLEAN},L-2\n".encode()
    r = bank.post("/v1/watchlists?name=csv&mode=poll", content=csv_body, headers={"content-type": "text/csv"})
    assert r.status_code == 201, r.text
    wid = r.json()["id"]
    assert r.json()["subjects"] == 2
    third = make_uscc(23)
    r = bank.post(f"/v1/watchlists/{wid}/subjects", content=f"{third}\n{CLEAN}\n".encode(),
                  headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["subjects"] == 3  # CLEAN was already watched
    r = bank.post(f"/v1/watchlists/{wid}/subjects:remove", json=[LISTED])
    assert r.json()["subjects"] == 2
    assert {s["uscc"] for s in bank.get(f"/v1/watchlists/{wid}/subjects").json()["subjects"]} == {CLEAN, third}
    assert bank.delete(f"/v1/watchlists/{wid}").status_code == 204
    assert bank.get(f"/v1/watchlists/{wid}").status_code == 404


def test_a_watchlist_holds_at_most_the_configured_number_of_subjects(authed, access):
    access.watchlists.max_subjects = 2
    bank = authed("finance")
    r = bank.post("/v1/watchlists", json={"mode": "poll", "subjects": [make_uscc(30), make_uscc(31), make_uscc(32)]})
    assert r.status_code == 413 and r.json()["type"].endswith("watchlist-too-large")
    wid = register(bank, [make_uscc(30), make_uscc(31)])["id"]
    r = bank.post(f"/v1/watchlists/{wid}/subjects", json=[make_uscc(33)])
    assert r.status_code == 413
    assert bank.get(f"/v1/watchlists/{wid}").json()["subjects"] == 2


def test_a_watched_subject_listed_is_one_change_the_bank_polls_as_its_credit_answer_says(authed, access):
    bank = authed("finance")
    wid = register(bank, [LISTED, CLEAN])["id"]
    seed_listed_subject(authed("agency"), access)
    access.watch_dispatcher.dispatch()
    page = bank.get(f"/v1/watchlists/{wid}/changes?since=0").json()
    assert len(page["changes"]) == 1, page
    change = page["changes"][0]
    assert change["subject"] == LISTED
    assert "listed:joint_punishment" in change["changes"]
    assert "standing:clear→restricted" in change["changes"]
    assert change["after"]["standing"] == "restricted"
    credit = bank.get(f"/v1/credit/{LISTED}").json()
    assert credit["standing"] == "restricted"
    assert sorted(m["text_zh"] for m in change["after"]["measures"]) == sorted(m["text_zh"] for m in credit["measures"])
    assert {m["receiver"] for m in change["after"]["measures"]} == {"finance"}
    assert change["reasons"] and change["reasons"][0]["list_kind"] == "joint_punishment"
    # nothing new after the cursor, and deciding the subject again plans nothing more
    assert bank.get(f"/v1/watchlists/{wid}/changes?since={page['next']}").json()["changes"] == []
    access.policy.recompute_all()  # every subject decided again, as after a profile change
    access.consumer.drain()
    access.watch_dispatcher.dispatch()
    assert bank.get(f"/v1/watchlists/{wid}/changes?since={page['next']}").json()["changes"] == []


def test_a_webhook_watchlist_gets_each_change_in_one_signed_bulletin_once(authed, access):
    bank = authed("finance")
    wid = register(bank, [LISTED], mode="webhook", destination=BANK_DESTINATION)["id"]
    seed_listed_subject(authed("agency"), access)
    sent = access.watch_dispatcher.dispatch()
    assert len(sent.bulletins) == 1 and sent.changes == 1
    assert access.watch_dispatcher.dispatch().bulletins == []  # never twice
    with access.db.read() as conn:
        rows = outbox.list_deliveries(conn, destination=BANK_DESTINATION)
        assert len(rows) == 1 and rows[0].state == "pending"
        signed = bulletin_store.get_bulletin(conn, rows[0].bulletin_id).signed
    verified = parse_bulletin(signed, Trust.for_keys("gateway", access.keyring))
    assert verified.header.kind == "watch"
    (item,) = verified.items
    assert item.kind == "watch.change" and item.subject == LISTED
    assert item.fields["watchlist"] == wid and "listed:joint_punishment" in item.fields["changes"]
    assert item.fields["after_standing"] == "restricted" and item.fields["before_standing"] == "clear"
    # the bank's own destination would send it (its guard admits watch notices)
    assert access.destinations.adapter(BANK_DESTINATION).guard.problems(signed) == []
    page = bank.get(f"/v1/watchlists/{wid}/changes").json()
    assert page["changes"][0]["notified_in"] == rows[0].bulletin_id


def test_a_digest_watchlist_gets_one_bulletin_a_day(authed, access):
    bank = authed("finance")
    register(bank, [LISTED, make_uscc(40)], mode="digest", destination=BANK_DESTINATION)
    seed_listed_subject(authed("agency"), access)
    seed_listed_subject(authed("agency"), access, code=make_uscc(40))
    assert access.watch_dispatcher.dispatch().bulletins == []
    digest = access.watch_dispatcher.digest()
    assert len(digest.bulletins) == 1 and digest.changes == 2
    assert access.watch_dispatcher.digest().bulletins == []


@pytest.mark.parametrize("destination, message", [
    (None, "names the destination"),
    ("nowhere", "is not configured"),
])
def test_a_webhook_watchlist_needs_the_destination_configured_for_the_bank(authed, destination, message):
    body = {"mode": "webhook", "subjects": [LISTED]} | ({"destination": destination} if destination else {})
    r = authed("finance").post("/v1/watchlists", json=body)
    assert r.status_code == 400 and message in r.json()["detail"]


def test_another_bank_cannot_send_its_notices_to_this_bank_s_destination(authed):
    r = authed("finance", seq=2).post("/v1/watchlists", json={"mode": "webhook", "destination": BANK_DESTINATION,
                                                              "subjects": [LISTED]})
    assert r.status_code == 400 and "not configured for your organisation" in r.json()["detail"]


def test_an_operator_key_is_told_watchlists_are_for_banks_and_insurers(operator):
    r = operator.post("/v1/watchlists", json={"mode": "poll", "subjects": []})
    assert r.status_code == 403 and r.json()["type"].endswith("watchlists-not-permitted")


def test_adding_an_empty_csv_adds_nothing(authed):
    bank = authed("finance")
    wid = register(bank, [LISTED])["id"]
    r = bank.post(f"/v1/watchlists/{wid}/subjects", content=b"", headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["subjects"] == 1
