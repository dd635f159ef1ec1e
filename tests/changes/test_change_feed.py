"""The change feed: every change of a subject is a row written with it, decided once by the
consumer; a subject that keeps failing is quarantined on its own while the others flow."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select, update

from gateway.changes import feed
from gateway.cli import main
from gateway.store.change_tables import subject_changes
from gateway.store.policy_tables import standings
from gateway.store.publication_tables import publication_items
from gateway.store.tables import agencies, records, subjects
from tests.factories import accident, make_uscc, penalty


def feed_rows(services) -> dict[int, object]:
    with services.db.read() as conn:
        return {r.subject_id: r for r in conn.execute(select(subject_changes))}


def stored(services) -> dict[int, object]:
    with services.db.read() as conn:
        return {r.subject_id: r for r in conn.execute(select(standings))}


def subject_id(services, key: str) -> int:
    with services.db.read() as conn:
        return conn.execute(select(subjects.c.id).where(subjects.c.key == key)).scalar_one()


def test_intake_puts_each_changed_subject_in_the_feed_once_with_its_records(services, agencies):
    unit = make_uscc(8001)
    services.intake.submit("MY-AJJ", [penalty("P1", unit), penalty("P2", unit)])
    services.intake.submit("MY-AJJ", [accident("A1", unit, "2025-05-01")])
    [row] = feed_rows(services).values()
    assert row.seq == 2 and row.state == "pending" and row.cause == "intake"  # one row; two changes counted
    assert stored(services) == {}  # nothing decided on the request path
    batch = services.consumer.drain()
    assert batch.done == 1 and feed_rows(services) == {}
    assert stored(services)[row.subject_id].version == 1


def test_gateway_changes_list_and_drain_show_and_decide_what_waits(services, agencies, capsys):
    units = [make_uscc(6100 + i) for i in range(3)]
    services.intake.submit("MY-AJJ", [penalty(f"P{i}", u) for i, u in enumerate(units)])
    args = ["--database-url", services.db.url]
    assert main(["changes", "list", *args]) == 0
    out = capsys.readouterr().out
    assert all(u in out for u in units)
    assert main(["changes", "drain", *args]) == 0
    assert "decided 3 subject(s); 0 failed, 0 quarantined" in capsys.readouterr().out
    assert feed_rows(services) == {} and len(stored(services)) == 3


def test_records_and_their_change_row_commit_together_or_not_at_all(services, agencies, monkeypatch):
    from gateway.intake import repository as intake_repo

    def crash(*args, **kwargs):
        raise RuntimeError("power cut after the change row was written")

    monkeypatch.setattr(intake_repo, "save_idempotent", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        services.intake.submit("MY-AJJ", [penalty("P1", make_uscc(8002))], idempotency_key="k-1")
    with services.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(records)).scalar_one() == 0
    assert feed_rows(services) == {}


def test_a_change_during_a_decision_is_decided_again(services, agencies):
    unit = make_uscc(8003)
    services.intake.submit("MY-AJJ", [penalty("P1", unit)])
    sid = subject_id(services, unit)
    consumer = services.consumer
    now = services.clock.now()
    with services.db.write() as conn:
        claims = feed.claim(conn, worker=consumer.worker_id, limit=10, now=now, lease_seconds=60)
    services.intake.submit("MY-AJJ", [accident("A1", unit, "2025-05-01")])  # arrives while it is being decided
    consumer.process(claims, claimed_at=now)
    assert feed_rows(services)[sid].lease_owner is None  # released, not deleted: the accident is not in it yet
    consumer.drain()
    assert feed_rows(services) == {}
    assert stored(services)[sid].body["bad_credit"]  # the accident's bad-credit record is in the standing


def _poison(services, unit: str) -> int:
    """A stored accident the engine cannot read (data written by an older release, say)."""
    sid = subject_id(services, unit)
    now = services.clock.now()
    with services.db.write() as conn:
        agency = conn.execute(select(agencies.c.id).where(agencies.c.code == "MY-AJJ")).scalar_one()
        conn.execute(insert(records).values(
            uid="rec_poison", subject_id=sid, agency_id=agency, source_record_id="A-POISON", kind="accident",
            version=1, status="current", action="publish", content_hash="x" * 64, data={"deaths": 1},
            event_date=dt.date(2025, 5, 1), publish_by_estimated=False, received_at=now))
        feed.enqueue(conn, [sid], now, "test")
    return sid


def test_a_poisoned_subject_is_quarantined_while_a_thousand_others_flow(services, agencies, clock, client, capsys):
    units = [make_uscc(9000 + i) for i in range(1001)]
    services.intake.submit("MY-AJJ", [penalty(f"P{i}", u) for i, u in enumerate(units)])
    poisoned = _poison(services, units[500])
    first = services.consumer.drain()
    assert first.done == 1000 and list(first.failed) == [poisoned]
    assert len(stored(services)) == 1000 and poisoned not in stored(services)
    row = feed_rows(services)[poisoned]
    assert row.state == "pending" and row.attempts == 1 and "KeyError" in row.last_error
    for _ in range(10):  # its backoff passes, it fails again, and again: then it is set aside
        clock.advance(minutes=10)
        services.consumer.drain()
    row = feed_rows(services)[poisoned]
    assert row.state == "quarantined" and row.attempts == services.settings.change_feed_max_attempts

    ready = client.get("/readyz").json()
    assert ready["ready"] is False and ready["checks"]["change_feed"]["ok"] is False
    assert "1 quarantined" in ready["checks"]["change_feed"]["detail"]
    assert "gateway_change_feed_quarantined 1.0" in client.get("/metrics").text
    summary = client.get("/v1/ops/summary").json()["change_feed"]
    assert summary["quarantined"] == 1 and summary["quarantined_subjects"][0]["subject"] == units[500]
    args = ["--database-url", services.db.url]
    assert main(["changes", "list", "--quarantined", *args]) == 0
    out = capsys.readouterr().out
    assert units[500] in out and "KeyError" in out

    # the agency sends the accident again, complete: the new version replaces the broken one
    client.post("/v1/records?agency=MY-AJJ", json=accident("A-POISON", units[500], "2025-05-01"))
    assert poisoned in stored(services) and feed_rows(services) == {}
    assert client.get("/readyz").json()["checks"]["change_feed"]["ok"] is True


def _refuse_standing_of(services, sid: int) -> None:
    """A database that refuses one subject's standing row (a trigger: a real refusal by the
    server, met only when the batch's gathered writes are written)."""
    with services.db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_standing() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.subject_id = {sid} THEN RAISE EXCEPTION 'standing refused'; END IF; RETURN NEW; "
                "END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON standings FOR EACH ROW "
                                 "EXECUTE FUNCTION refuse_standing()")
        else:
            conn.exec_driver_sql(f"CREATE TRIGGER refuse BEFORE INSERT ON standings WHEN NEW.subject_id = {sid} "
                                 "BEGIN SELECT RAISE(ABORT, 'standing refused'); END")


def test_a_batch_whose_gathered_writes_are_refused_is_decided_again_one_by_one(services, agencies):
    # the consumer writes a batch's standings with one statement; when the database refuses it,
    # the batch is decided again subject by subject: the one refused fails alone, the rest land
    units = [make_uscc(7000 + i) for i in range(50)]
    services.intake.submit("MY-AJJ", [penalty(f"P{i}", u) for i, u in enumerate(units)])
    refused = subject_id(services, units[20])
    _refuse_standing_of(services, refused)
    try:
        batch = services.consumer.drain()
        assert batch.done == 49 and list(batch.failed) == [refused]
        assert "standing refused" in batch.failed[refused]
        assert len(stored(services)) == 49 and refused not in stored(services)
        with services.db.read() as conn:
            items = conn.execute(select(func.count()).select_from(publication_items)
                                 .where(publication_items.c.subject_id == refused)).scalar_one()
        assert items == 0  # nothing of the refused subject's decision stayed behind
        assert set(feed_rows(services)) == {refused}
    finally:
        with services.db.write() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse" + (" ON standings" if conn.dialect.name == "postgresql" else ""))


def test_an_operator_retries_a_quarantined_subject_once_its_cause_is_fixed(services, agencies, clock, capsys):
    unit = make_uscc(8004)
    services.intake.submit("MY-AJJ", [penalty("P1", unit)])
    services.consumer.drain()
    sid = _poison(services, unit)
    for _ in range(6):
        services.consumer.drain()
        clock.advance(minutes=10)
    assert feed_rows(services)[sid].state == "quarantined"
    with services.db.write() as conn:  # the operator repairs the stored record
        conn.execute(update(records).where(records.c.uid == "rec_poison").values(
            data={"occurred_on": "2025-05-01", "grade": "general", "deaths": 1}))
    assert main(["changes", "retry", unit, "--database-url", services.db.url]) == 0
    assert "1 quarantined subject(s)" in capsys.readouterr().out
    assert feed_rows(services)[sid].state == "pending" and feed_rows(services)[sid].attempts == 0
    services.consumer.decide_now([sid])  # (the CLI's own clock is the real one; the test's is frozen)
    assert feed_rows(services) == {} and stored(services)[sid].body["bad_credit"]


def test_the_daily_sweep_decides_only_subjects_whose_next_change_day_has_come(services, agencies, clock):
    fresh = [make_uscc(8100 + i) for i in range(40)]
    services.intake.submit("MY-AJJ", [penalty(f"P{i}", u, decided="2025-05-20") for i, u in enumerate(fresh)])
    ages = make_uscc(8200)  # an accident: its bad-credit record ends on 2026-05-01
    services.intake.submit("MY-AJJ", [accident("A1", ages, "2025-05-01", deaths=0, injuries=1)])
    services.consumer.drain()
    before = stored(services)
    due_on = before[subject_id(services, ages)].next_change_on
    assert due_on is not None
    clock.set(dt.datetime.combine(due_on, dt.time(2), tzinfo=dt.UTC))
    due = {sid for sid, row in before.items() if row.next_change_on and row.next_change_on <= due_on}
    assert 0 < len(due) < len(before)
    result = services.policy.sweep()
    assert result.subjects_decided == len(due)
    after = stored(services)
    touched = {sid for sid in after if after[sid].checked_at != before[sid].checked_at}
    assert touched == due
    assert all(after[sid].next_change_on is None or after[sid].next_change_on > due_on for sid in due)
    assert services.policy.sweep().subjects_decided == 0  # the same day again: nothing is due


def test_switching_the_profile_puts_every_subject_in_the_feed(services, settings, db, clock, agencies):
    from gateway.bootstrap import build
    from gateway.config import load_settings

    units = [make_uscc(8300 + i) for i in range(5)]
    services.intake.submit("MY-AJJ", [penalty(f"P{i}", u) for i, u in enumerate(units)])
    services.consumer.drain()
    assert services.policy.follow_profile() == 5  # the first start records the profile
    services.consumer.drain()
    assert services.policy.follow_profile() == 0
    national = build(load_settings(database_url=db.url, keys_dir=settings.keys_dir, policy_profile="national-2023"),
                     db=db, clock=clock, destinations=services.destinations)
    assert national.policy.follow_profile() == 5
    assert {r.cause for r in feed_rows(national).values()} == {"profile"}
    national.consumer.drain()
    assert {r.profile for r in stored(national).values()} == {"national-2023"}
