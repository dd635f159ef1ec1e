"""The daily sweep: expiry, removal and reapplication windows, overdue 双公示, star-less years."""

from __future__ import annotations

import datetime as dt

from policy_store_helpers import approve_levels, commitment, grade, post, score, step

from tests.factories import accident, licence, make_uscc, penalty

UNIT = make_uscc(501)


def _published(client) -> str:  # noqa: ANN001
    for source_id, day in (("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")):
        post(client, accident(source_id, UNIT, day))
    uid = client.get("/v1/list-entries", params={"subject": UNIT}).json()["items"][0]["id"]
    for action in ("notify", "confirm", "publish"):
        assert step(client, uid, action, **({"argument": "waived"} if action == "confirm" else {})).status_code == 200
    return uid


def _at(clock, day: str) -> None:  # noqa: ANN001
    clock.set(dt.datetime.fromisoformat(day).replace(hour=2, tzinfo=dt.UTC))


def test_the_sweep_opens_the_removal_window_then_expires_the_entry_and_is_idempotent(client, clock, policy):
    uid = _published(client)  # published 2025-06-02: expires 2026-06-02, removal from 2026-04-17
    _at(clock, "2026-04-16")
    assert policy.sweep().changes == 0
    _at(clock, "2026-04-17")
    first = policy.sweep()
    assert first.removal_windows_opened == [uid] and first.expired == []
    assert policy.sweep().changes == 0
    _at(clock, "2026-06-01")
    assert policy.sweep().expired == []
    _at(clock, "2026-06-02")
    events_before = len(client.get(f"/v1/list-entries/{uid}").json()["events"])
    assert policy.sweep().expired == [uid]
    detail = client.get(f"/v1/list-entries/{uid}").json()
    assert detail["state"] == "expired" and detail["open"] is False
    last = detail["events"][-1]
    assert (last["action"], last["actor"], last["at"]) == ("expire", "system", "2026-06-02T02:00:00+00:00")
    again = policy.sweep()
    assert again.changes == 0
    assert len(client.get(f"/v1/list-entries/{uid}").json()["events"]) == events_before + 1
    window = [e for e in detail["events"] if e["action"] == "window-opened"]
    assert window[0]["detail"] == {"window": "removal", "opens_on": "2026-04-17"}


def test_the_sweep_opens_the_incentive_reapplication_window(client, clock, policy, services):
    post(client, commitment("C1", UNIT))
    post(client, grade("G1", UNIT))
    uid = client.post("/v1/incentive-applications", json={"uscc": UNIT}).json()["id"]
    step(client, uid, "review")
    approve_levels(client, services, uid)
    assert policy.sweep(dt.date(2028, 3, 1)).reapply_windows_opened == []
    assert policy.sweep(dt.date(2028, 3, 2)).reapply_windows_opened == [uid]
    assert policy.sweep(dt.date(2028, 3, 2)).changes == 0
    assert policy.sweep(dt.date(2028, 6, 2)).expired == [uid]


def test_the_sweep_counts_double_publicity_records_past_their_deadline_and_not_yet_queued(client, policy, services):
    from gateway.store.publication_tables import publication_items

    # no destination is configured here: nothing is queued for publication
    late = post(client, penalty("P1", UNIT, decided="2025-05-20"))  # publish by 2025-05-29
    post(client, licence("L1", UNIT, decided="2025-05-30"))  # publish by 2025-06-11
    result = policy.sweep()
    assert result.overdue_publications == 1 and result.overdue_sample == [late["record_id"]]
    with services.db.write() as conn:
        conn.execute(publication_items.insert().values(
            item_id="it_1", destination="mianyang-platform", source_key=f"rec:{late['record_id']}", kind="penalty",
            subject=UNIT, record_uid=late["record_id"], fields={}, state="pending", created_at=services.clock.now()))
    assert policy.sweep().overdue_publications == 0


def test_the_sweep_reports_starless_years_from_the_decisions(client, policy):
    post(client, score("S1", UNIT, "72", 2023))
    post(client, score("S2", UNIT, "74.99", 2024))
    other = make_uscc(502)
    post(client, score("S3", other, "96", 2024))
    result = policy.sweep()
    assert result.key_monitoring == [UNIT] and result.rectification_ordered == [UNIT]


def test_the_sweep_is_a_scheduled_job_that_decides_only_subjects_whose_day_came(client, services, clock):
    uid = _published(client)  # expires 2026-06-02; its removal window opens 2026-04-17
    other = make_uscc(503)
    post(client, penalty("P-OTHER", other, decided="2025-05-20"))
    [job] = [j for j in services.jobs() if j.name == "policy_sweep"]
    assert job.run("2025-06-03", clock.now()) .startswith("expired=0")
    _at(clock, "2026-04-17")
    summary = job.run("2026-04-17", clock.now())
    assert "removal_windows_opened=1" in summary
    detail = client.get(f"/v1/list-entries/{uid}").json()
    assert detail["removal_window_flagged_on"] == "2026-04-17"


def test_the_star_report_flag_is_backfilled_for_decisions_stored_before_it(tmp_path):
    # migration 0007 flags the stored decisions whose stars call for the report (the sweep reads
    # the flag, indexed, instead of every decision's JSON)
    import datetime as dt
    import json

    from sqlalchemy import insert, select

    from gateway.store import migrate
    from gateway.store.db import Database
    from gateway.store.policy_tables import decisions
    from gateway.store.tables import subjects

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(db, "0006")
    now = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    with db.write() as conn:
        for i, stars in enumerate(({"key_monitoring": True, "rectification_ordered": False},
                                   {"key_monitoring": False, "rectification_ordered": False},
                                   {"key_monitoring": True, "rectification_ordered": True})):
            sid = conn.execute(insert(subjects).values(key=f"K{i}", category="legal_person", created_at=now,
                                                       changed_at=now).returning(subjects.c.id)).scalar_one()
            conn.exec_driver_sql(
                "INSERT INTO decisions (subject_id, profile, as_of, computed_at, checked_at, subject_changed_at, "
                "digest, body) VALUES (?, 'municipal-2021', '2025-06-02', ?, ?, ?, 'd', ?)",
                (sid, now.replace(tzinfo=None), now.replace(tzinfo=None), now.replace(tzinfo=None),
                 json.dumps({"stars": stars})))
    migrate.upgrade(db)
    with db.read() as conn:
        flags = [r[0] for r in conn.execute(select(decisions.c.star_attention).order_by(decisions.c.id))]
    assert flags == [True, False, True]
    db.dispose()
