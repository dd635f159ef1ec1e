"""Routing table: who gets what (docs/policy.md §3 cascade, §9 measures by receiver, §8 双公示)."""

from __future__ import annotations

import json

from sqlalchemy import select

from gateway.publication import views as routing
from gateway.store.publication_tables import publication_items as pi
from tests.factories import accident, make_uscc, penalty

from .conftest import publish_entries

PERSON_ID = "510703198001011232"


def items(services, destination=None, kind=None):
    q = select(pi).order_by(pi.c.id)
    if destination:
        q = q.where(pi.c.destination == destination)
    if kind:
        q = q.where(pi.c.kind == kind)
    with services.db.read() as conn:
        return list(conn.execute(q))


def submit(services, *records, agency="MY-AJJ", publish=True):
    result = services.intake.submit(agency, list(records))
    assert all(o.outcome != "rejected" for o in result.outcomes), result.to_dict()
    services.consumer.drain()  # the change feed: decisions, entries, standing, items
    if publish:
        publish_entries(services)
    return result


def destinations_of(services, kind, list_name=None):
    out = set()
    for r in items(services, kind=kind):
        if list_name is None or r.fields.get("list") == list_name:
            out.add(r.destination)
    return out


def test_national_bad_credit_record_cascades_to_provincial_city_and_district_platforms(pub):
    code = make_uscc(101)  # registered in 510703 (Fucheng district, Mianyang, Sichuan)
    submit(pub, accident("A-1", code, "2025-05-10", grade="larger", deaths=3))
    got = destinations_of(pub, "list.inclusion", "bad_credit")
    assert got == {"national-platform", "sichuan-platform", "mianyang-platform", "fucheng-platform", "sichuan-agency"}
    entry = items(pub, "fucheng-platform", "list.inclusion")[0]
    assert entry.fields["level"] == "national"


def test_district_bad_credit_record_stays_local(pub):
    code = make_uscc(102)
    submit(pub, accident("A-2", code, "2025-05-10", grade="general", deaths=0, injuries=2))
    got = destinations_of(pub, "list.inclusion", "bad_credit")
    assert got == {"fucheng-platform", "sichuan-agency"}
    assert not items(pub, "national-platform") and not items(pub, "mianyang-platform")


def test_joint_punishment_entry_reaches_land_bureau_with_land_measures_only(pub):
    code = make_uscc(103)
    submit(pub, accident("A-3", code, "2025-05-10", grade="larger", deaths=3))
    land = items(pub, "mianyang-land")
    assert land, "a joint punishment listing restricts land bidding: the land bureau must get it"
    assert {r.kind for r in land} == {"list.inclusion"}
    assert {r.fields["list"] for r in land} == {"joint_punishment"}  # 较大: not the blacklist
    for r in land:
        assert r.fields["list"] != "bad_credit"  # no land measure on the bad-credit record
        assert r.fields["measures"] and {m["receiver"] for m in r.fields["measures"]} == {"land"}


def test_a_proposed_listing_is_not_published_before_notice_and_confirmation(pub):
    code = make_uscc(111)
    submit(pub, accident("A-11", code, "2025-05-10", grade="larger", deaths=3), publish=False)
    assert destinations_of(pub, "list.inclusion", "joint_punishment") == set()
    assert destinations_of(pub, "list.inclusion", "bad_credit")  # the bad-credit record is not a listing
    [uid] = publish_entries(pub)
    jp = items(pub, "national-platform", "list.inclusion")
    assert any(r.fields["list"] == "joint_punishment" and r.fields["decision_ref"] == uid for r in jp)


def test_land_bureau_gets_nothing_for_a_district_record_or_a_penalty(pub):
    code = make_uscc(104)
    submit(pub, accident("A-4", code, "2025-05-10", grade="general", deaths=0, injuries=1), penalty("P-4", code))
    assert items(pub, "mianyang-land") == []


def test_bank_gets_finance_measures_and_never_a_full_id_number(pub):
    code = make_uscc(105)
    submit(
        pub,
        penalty("P-5", code, CF_FRDB="张三", CF_FR_ZJLX="身份证", CF_FR_ZJHM=PERSON_ID),
        accident("A-5", code, "2025-05-10", grade="larger", deaths=3),
    )
    bank = items(pub, "mianyang-bank")
    assert {r.kind for r in bank} == {"penalty.publication", "list.inclusion"}
    dumped = json.dumps([dict(r.fields) for r in bank], ensure_ascii=False)
    assert PERSON_ID not in dumped
    pen = next(r for r in bank if r.kind == "penalty.publication")
    assert pen.fields["CF_FR_ZJHM"] == "510703********1232"
    for r in bank:
        if r.kind == "list.inclusion":
            assert {m["receiver"] for m in r.fields["measures"]} == {"finance"}
    # the agency above sees the number in full
    agency = next(r for r in items(pub, "sichuan-agency") if r.kind == "penalty.publication")
    assert agency.fields["CF_FR_ZJHM"] == PERSON_ID


def test_same_record_version_is_never_queued_twice(pub):
    code = make_uscc(106)
    submit(pub, penalty("P-6", code))
    first = items(pub)
    subject_id = first[0].subject_id
    result = pub.policy.recompute([subject_id])  # the whole path again: nothing new to queue
    assert result.subjects == 1
    pub.policy.sweep()
    assert [r.item_id for r in items(pub)] == [r.item_id for r in first]


def test_withdrawn_penalty_becomes_a_withdrawal_referring_to_the_publication_where_it_was_sent(pub):
    code = make_uscc(107)
    submit(pub, penalty("P-7", code))
    published = {r.destination: r for r in items(pub, kind="penalty.publication")}
    assert "mianyang-land" not in published and "mianyang-bank" in published
    submit(pub, {"action": "withdraw", "source_record_id": "P-7", "reason": "revoked by review"})
    withdrawals = {r.destination: r for r in items(pub, kind="penalty.withdrawal")}
    assert set(withdrawals) == set(published)
    for dest, w in withdrawals.items():
        assert w.ref_item_id == published[dest].item_id
        assert w.fields["reason"] == "revoked" and w.fields["decision_number"].startswith("绵应急罚")


def test_repaired_penalty_becomes_a_repair_item(pub):
    code = make_uscc(108)
    submit(pub, penalty("P-8", code))
    submit(pub, {"action": "withdraw", "source_record_id": "P-8", "reason": "repaired: 信用修复决定书 2025-1"})
    repairs = items(pub, kind="repair")
    assert repairs and all(r.ref_item_id for r in repairs)
    assert not items(pub, kind="penalty.withdrawal")


def test_corrected_licence_withdraws_the_old_version_and_publishes_the_new(pub):
    from tests.factories import licence

    code = make_uscc(109)
    submit(pub, licence("L-9", code))
    corrected = licence("L-9", code)
    corrected["data"]["XK_NR"] = "危险化学品经营（带储存）"
    submit(pub, corrected)
    at = items(pub, "national-platform")
    assert [r.kind for r in at] == ["licence.publication", "licence.withdrawal", "licence.publication"]
    assert at[1].fields["reason"] == "corrected" and at[1].ref_item_id == at[0].item_id


def test_item_ids_are_stable_per_destination_and_source():
    a = routing.item_id_for("national-platform", "rec:rec_1")
    assert a == routing.item_id_for("national-platform", "rec:rec_1")
    assert a != routing.item_id_for("sichuan-platform", "rec:rec_1")
    assert len(a) <= 64


def test_region_prefixes():
    assert routing.region_prefix("510000") == "51"
    assert routing.region_prefix("510700") == "5107"
    assert routing.region_prefix("510703") == "510703"
    route = routing.Route("x", regions=("5107",))
    assert route.wants_region("510703") and not route.wants_region("511000")


def test_daily_sweep_removes_expired_entries_and_withdraws_penalties_past_their_period(pub, clock):
    import datetime as dt

    code = make_uscc(110)
    submit(pub, accident("A-10", code, "2025-05-10", grade="larger", deaths=3), penalty("P-10", code, decided="2025-05-20"))
    inclusions = {(r.destination, r.source_key): r for r in items(pub, kind="list.inclusion")}
    publications = {r.destination: r for r in items(pub, kind="penalty.publication")}
    clock.set(dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC))  # a year on: off the lists, penalty at its maximum
    result = pub.policy.sweep()  # the scheduler's policy_sweep (01:00): the subjects whose day came
    assert result.subjects_decided == 1 and result.expired
    removals = items(pub, kind="list.removal")
    assert {(r.destination, r.ref_item_id) for r in removals} == {(d, i.item_id) for (d, _), i in inclusions.items()}
    withdrawals = {r.destination: r for r in items(pub, kind="penalty.withdrawal")}
    assert set(withdrawals) == set(publications)
    assert all(w.fields["reason"] == "expired" for w in withdrawals.values())
    before = len(items(pub))
    assert pub.policy.sweep().subjects_decided == 0  # its next change day has moved on
    assert len(items(pub)) == before


def test_intake_queues_items_through_the_change_feed(pub):
    pub.intake.submit("MY-AJJ", [penalty("P-12", make_uscc(112))])
    assert items(pub) == []  # committed with its change row; the consumer has not run yet
    pub.consumer.drain()
    assert destinations_of(pub, "penalty.publication") == {
        "national-platform", "sichuan-platform", "mianyang-platform", "fucheng-platform", "mianyang-bank", "sichuan-agency",
    }
