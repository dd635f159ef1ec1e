"""One truth for a subject's standing: what partners are told, what is published and what the
lists say agree, after every step of the list procedure and every change of the records."""

from __future__ import annotations

import sys

from standing_helpers import (
    approve_levels,
    destinations_of,
    entries,
    items,
    list_three_accidents,
    post,
    publish,
    step,
    withdraw,
)

from tests.factories import accident, commitment, grade, make_uscc, violation

UNIT = make_uscc(7101)
PROVIDER = "MY-AJJ"  # the agency whose records the listing rests on (谁提供、谁负责)
HAD_THE_INCLUSION = {"sichuan-platform", "mianyang-land", "mianyang-bank", "sichuan-agency"}


def credit(partner_client, code: str = UNIT) -> dict:
    r = partner_client.get(f"/v1/credit/{code}")
    assert r.status_code == 200, r.text
    return r.json()


def _published(operator, clock) -> dict:
    entry = list_three_accidents(operator, UNIT)
    return publish(operator, clock, entry["id"])


def _removals(gw) -> set[str]:
    return {r.destination for r in items(gw, kind="list.removal") if r.fields.get("list") == "joint_punishment"}


def test_a_published_listing_restricts_the_unit_and_reaches_every_receiver(operator, partner, gw, clock):
    _published(operator, clock)
    land = credit(partner("land"))
    assert land["standing"] == "restricted"
    assert [m["receiver"] for m in land["measures"]] == ["land"]
    assert destinations_of(gw, "list.inclusion", "joint_punishment") == HAD_THE_INCLUSION


def test_an_objection_rejected_keeps_the_listing_and_sends_nothing(operator, partner, gw, clock):
    entry = _published(operator, clock)
    assert step(operator, entry["id"], "object", note="企业异议").status_code == 200
    r = step(operator, entry["id"], "uphold", note="异议不成立", acting_for=PROVIDER)  # the alias kept for one release
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "objection_rejected"
    assert credit(partner("land"))["standing"] == "restricted"
    assert _removals(gw) == set()
    assert items(gw, kind="list.change") == []


def test_an_objection_rejected_by_its_own_name(operator, partner, gw, clock):
    entry = _published(operator, clock)
    step(operator, entry["id"], "object")
    r = step(operator, entry["id"], "reject-objection", acting_for=PROVIDER)
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "objection_rejected"
    assert credit(partner("finance"))["standing"] == "restricted"
    assert _removals(gw) == set()


def test_an_objection_accepted_on_details_sends_a_correction_and_keeps_the_listing(operator, partner, gw, clock):
    entry = _published(operator, clock)
    step(operator, entry["id"], "object")
    r = step(operator, entry["id"], "correct", note="更正：事故发生单位名称", acting_for=PROVIDER)  # alias of correct-listing
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "corrected"
    assert credit(partner("land"))["standing"] == "restricted"
    assert _removals(gw) == set()
    changes = items(gw, kind="list.change")
    assert {c.destination for c in changes} == HAD_THE_INCLUSION
    inclusions = {i.destination: i.item_id for i in items(gw, kind="list.inclusion")
                  if i.fields.get("list") == "joint_punishment"}
    assert all(c.ref_item_id == inclusions[c.destination] for c in changes)
    assert all(c.fields.get("reason") == "更正：事故发生单位名称" for c in changes)


def test_an_objection_accepted_on_the_listing_annuls_it_and_sends_its_removal(operator, partner, gw, clock):
    entry = _published(operator, clock)
    step(operator, entry["id"], "object")
    r = step(operator, entry["id"], "annul-listing", note="异议成立，撤销列入", acting_for=PROVIDER)
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "annulled" and r.json()["entry"]["open"] is False
    assert credit(partner("land"))["standing"] == "clear"
    assert _removals(gw) == HAD_THE_INCLUSION


def test_a_blacklist_entry_for_incentive_fraud_restricts_the_unit_at_once(operator, partner, gw, services):
    post(operator, commitment("C1", UNIT))
    post(operator, grade("G1", UNIT, level=1))
    entry = operator.post("/v1/incentive-applications", json={"uscc": UNIT}).json()
    step(operator, entry["id"], "review")
    approve_levels(operator, services, entry["id"])
    r = step(operator, entry["id"], "revoke", fraud=True, note="申报材料虚假")
    assert r.status_code == 200, r.text
    [listed] = r.json()["created"]
    assert listed["list"] == "blacklist" and listed["state"] == "published" and listed["starts_on"]
    land = credit(partner("land"))
    assert land["standing"] == "restricted"
    assert [ls["list_kind"] for ls in land["lists"]] == ["blacklist"]
    assert "mianyang-land" in destinations_of(gw, "list.inclusion", "blacklist")


def test_withdrawing_the_only_record_behind_a_listing_ends_it_and_publishes_its_removal(operator, partner, gw,
                                                                                      clock):
    post(operator, violation("V1", UNIT, "jp02_unlicensed_operation", "2025-05-01"))
    [entry] = entries(operator, subject=UNIT, list="joint_punishment")
    publish(operator, clock, entry["id"])
    assert credit(partner("land"))["standing"] == "restricted"
    withdraw(operator, "V1", reason="撤销：认定错误")
    after = operator.get(f"/v1/list-entries/{entry['id']}").json()
    assert after["state"] == "basis_withdrawn" and after["open"] is False
    assert after["events"][-1]["actor"] == "system"
    assert credit(partner("land"))["standing"] == "clear"
    assert _removals(gw) == HAD_THE_INCLUSION


def test_withdrawing_one_of_the_three_accidents_a_listing_needs_ends_it(operator, partner, gw, clock):
    entry = _published(operator, clock)
    withdraw(operator, "A2")
    assert operator.get(f"/v1/list-entries/{entry['id']}").json()["state"] == "basis_withdrawn"
    assert credit(partner("land"))["standing"] == "clear"
    assert _removals(gw) == HAD_THE_INCLUSION


def test_a_listing_the_remaining_records_still_support_stays(operator, partner, gw, clock):
    four = [("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20"), ("A4", "2025-05-25")]
    entry = list_three_accidents(operator, UNIT, four)
    publish(operator, clock, entry["id"])
    withdraw(operator, "A2")
    after = operator.get(f"/v1/list-entries/{entry['id']}").json()
    assert after["state"] == "published"
    assert len(after["record_uids"]) == 3
    assert credit(partner("land"))["standing"] == "restricted"
    assert _removals(gw) == set()


def test_a_corrected_record_re_evaluates_the_listing(operator, partner, gw, clock):
    entry = _published(operator, clock)
    # the agency corrects the third accident: nobody died, so there were only two fatal ones
    post(operator, accident("A3", UNIT, "2025-05-20", deaths=0, injuries=2))
    after = operator.get(f"/v1/list-entries/{entry['id']}").json()
    assert after["state"] == "basis_withdrawn"
    assert credit(partner("land"))["standing"] == "clear"
    assert _removals(gw) == HAD_THE_INCLUSION


def test_a_corrected_record_that_still_meets_the_case_keeps_the_listing(operator, partner, gw, clock):
    entry = _published(operator, clock)
    before = set(entry["record_uids"])
    post(operator, accident("A3", UNIT, "2025-05-20", deaths=2))  # two deaths instead of one
    after = operator.get(f"/v1/list-entries/{entry['id']}").json()
    assert after["state"] == "published"
    assert len(set(after["record_uids"]) - before) == 1  # the corrected version replaces the old one
    assert credit(partner("land"))["standing"] == "restricted"
    assert _removals(gw) == set()


def test_credit_lookups_read_the_stored_standing_without_running_the_engine(operator, partner, gw, clock,
                                                                            monkeypatch):
    _published(operator, clock)
    land = partner("land")

    def engine_must_not_run(*args, **kwargs):  # noqa: ANN002, ANN003
        raise AssertionError("the policy engine ran on a partner query")

    monkeypatch.setattr(sys.modules["gateway.domain.policy.decide"], "facts_from_records", engine_must_not_run)
    assert credit(land)["standing"] == "restricted"
    r = land.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": [UNIT, make_uscc(7102)]})
    assert r.status_code == 200, r.text
    assert [b["status"] for b in r.json()["bidders"]] == ["restricted", "unknown"]
