"""Scheduler: (job, slot) runs once, the monthly report slot, leadership and failover."""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from gateway import scheduler as sched
from gateway.scheduler import leadership
from gateway.scheduler import runs as run_store
from gateway.scheduler.triggers import parse_schedule, report_slot
from gateway.store.delivery_tables import bulletins
from gateway.store.publication_tables import publication_items as pi
from gateway.store.publication_tables import scheduled_runs as runs
from tests.factories import accident, make_uscc

from .conftest import publish_entries

ROOT = Path(__file__).resolve().parents[2]
CST = sched.CHINA


def counting_job(name="push:test", schedule="hourly", fail=False):
    calls = []

    def run(slot, now):
        calls.append(slot)
        if fail:
            raise RuntimeError("destination config broken")
        return "done"

    [job] = sched.resolve([sched.JobSpec(name, schedule, run)])
    return job, calls


def tick(services, job, runner, **kw):
    return sched.tick(services.db, services.clock, job, runner, **kw)


def all_runs(services):
    with services.db.read() as conn:
        return list(conn.execute(select(runs).order_by(runs.c.id)))


def test_double_tick_for_the_same_job_and_slot_runs_once(services):
    job, calls = counting_job()
    at = dt.datetime(2026, 11, 22, 3, 0, 0, tzinfo=CST)
    assert tick(services, job, "a:1", now=at) == "2026-11-22T03"
    assert tick(services, job, "b:2", now=at + dt.timedelta(seconds=5)) == "2026-11-22T03"
    assert calls == ["2026-11-22T03"]
    [row] = all_runs(services)
    assert (row.job, row.slot, row.outcome, row.runner) == ("push:test", "2026-11-22T03", "ok", "a:1")
    tick(services, job, "a:1", now=at + dt.timedelta(hours=1))
    assert calls == ["2026-11-22T03", "2026-11-22T04"]


def test_concurrent_ticks_from_two_leaders_run_once(services):
    job, calls = counting_job(schedule="0 2 * * *")
    at = dt.datetime(2026, 11, 2, 2, 0, 1, tzinfo=CST)
    barrier = threading.Barrier(4)

    def leader(i):
        barrier.wait()
        tick(services, job, f"leader:{i}", now=at)

    threads = [threading.Thread(target=leader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["2026-11-02"]
    assert len(all_runs(services)) == 1


def test_a_failed_run_is_recorded_and_can_be_rerun(services):
    job, calls = counting_job(fail=True)
    at = dt.datetime(2026, 11, 22, 3, tzinfo=CST)
    tick(services, job, "a:1", now=at)
    [row] = all_runs(services)
    assert row.outcome == "failed" and "destination config broken" in row.detail
    tick(services, job, "a:1", now=at)
    assert len(calls) == 1  # not retried by a second tick
    run_store.rerun(services.db, job.name, row.slot, at)
    sched.run_pending(services.db, services.clock, [job], "a:1", now=at)
    assert len(calls) == 2 and all_runs(services)[0].attempts == 2


def test_a_new_leader_reclaims_runs_the_dead_leader_had_started(services):
    job, calls = counting_job()
    at = dt.datetime(2026, 11, 22, 3, tzinfo=CST)
    run_store.enqueue_run(services.db, job.name, "2026-11-22T03", at)
    [row] = all_runs(services)
    assert run_store.claim_run(services.db, row.id, "dead:1", at)  # started, then the process died
    assert sched.run_pending(services.db, services.clock, [job], "new:2", now=at) == []
    assert run_store.reclaim_abandoned(services.db, "new:2") == 1
    assert sched.run_pending(services.db, services.clock, [job], "new:2", now=at) == [(job.name, "2026-11-22T03", "ok")]


def test_november_report_slot_is_due_by_2_december():
    trigger = parse_schedule("0 1 1,2 * *")  # the monthly report's schedule (gateway.publication.jobs)
    slot_for = report_slot(trigger)
    assert sched.report_due_on("2026-11") == dt.date(2026, 12, 2)
    fires = trigger.get_next_fire_time(None, dt.datetime(2026, 11, 22, 12, tzinfo=CST))
    assert fires.date() <= dt.date(2026, 12, 2) and slot_for(fires) == "2026-11"
    # a leader elected late on the 2nd still finds November due (catch-up), not October or December
    assert slot_for(dt.datetime(2026, 12, 2, 23, 59, tzinfo=CST)) == "2026-11"
    assert slot_for(dt.datetime(2026, 11, 30, 23, 59, tzinfo=CST)) == "2026-10"
    assert sched.report_due_on("2026-12") == dt.date(2027, 1, 2)


def test_monthly_report_sends_last_months_inclusions_to_the_level_above_once(pub, clock):
    clock.set(dt.datetime(2026, 10, 12, 1, 0, tzinfo=CST))
    pub.intake.submit("MY-AJJ", [accident("A-OCT", make_uscc(302), "2026-10-10", grade="larger", deaths=3)])
    pub.consumer.drain()
    publish_entries(pub)  # listed in October: October's report
    clock.set(dt.datetime(2026, 11, 12, 1, 0, tzinfo=CST))
    pub.intake.submit("MY-AJJ", [accident("A-NOV", make_uscc(301), "2026-11-10", grade="larger", deaths=3)])
    pub.consumer.drain()
    publish_entries(pub)
    clock.set(dt.datetime(2026, 12, 1, 1, 0, tzinfo=CST))
    jobs = [j for j in pub.jobs() if j.name == "monthly_report"]
    assert jobs, "report_to is configured: the report is scheduled"
    assert tick(pub, jobs[0], "a:1") == "2026-11"
    tick(pub, jobs[0], "a:1", now=clock.now() + dt.timedelta(days=1))  # the 2nd: nothing new
    with pub.db.read() as conn:
        sent = list(conn.execute(select(bulletins)))
        reported = list(conn.execute(select(pi).where(pi.c.source_key.like("report:2026-11:%"))))
    assert len(sent) == 1 and sent[0].destination == "sichuan-agency" and sent[0].kind == "list"
    assert {r.fields["list"] for r in reported} == {"bad_credit", "joint_punishment"}
    assert {r.subject for r in reported} == {make_uscc(301)}
    assert all(r.state == "batched" for r in reported)
    [row] = all_runs(pub)
    assert row.outcome == "ok" and row.detail == "1 bulletin(s)"


def test_push_cycle_jobs_come_from_destination_schedules(pub):
    names = {j.name: j for j in pub.jobs()}
    assert {"push:national-platform", "push:mianyang-platform"} <= set(names)
    assert "push:fucheng-platform" not in names  # no schedule configured
    at = dt.datetime(2026, 11, 22, 3, 20, tzinfo=CST)
    assert names["push:national-platform"].slot_for(at) == "2026-11-22"
    assert names["push:mianyang-platform"].slot_for(at) == "2026-11-22T03"


def test_sqlite_runs_one_scheduler_per_database_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    first, second = leadership.FileLeadership(url), leadership.FileLeadership(url)
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


# --- failover with real processes (PostgreSQL) ---------------------------------------------


def _spawn(url: str, tmp_path: Path) -> tuple[subprocess.Popen, queue.Queue]:
    dest = tmp_path / "destinations.yaml"
    dest.write_text("destinations: {}\n", encoding="utf-8")
    env = {**os.environ, "GATEWAY_DATABASE_URL": url, "GATEWAY_DESTINATIONS_FILE": str(dest),
           "GATEWAY_KEYS_DIR": str(tmp_path / "keys"), "PYTHONUNBUFFERED": "1"}
    env.pop("GATEWAY_CONFIG_FILE", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))",
         "scheduler", "--retry-seconds", "0.5"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip()) for line in proc.stdout], daemon=True).start()
    return proc, lines


def _wait_for(lines: queue.Queue, needle: str, timeout: float) -> float | None:
    start = time.monotonic()
    while (left := timeout - (time.monotonic() - start)) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if needle in line:
            return time.monotonic() - start
    return None


def _lock_holder(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = (:ns)::oid AND l.objsubid = 2 "
                "AND l.objid = (hashtext(current_schema())::bigint & 4294967295)::oid"
            ), {"ns": leadership.LOCK_NAMESPACE}).scalar()
    finally:
        engine.dispose()


def test_leader_failover_between_two_processes_on_postgresql(db, tmp_path):
    if db.is_sqlite:
        pytest.skip("leader failover uses PostgreSQL advisory locks; on SQLite one scheduler runs (flock)")
    a, a_out = _spawn(db.url, tmp_path)
    b = None
    try:
        assert _wait_for(a_out, ": leading", 30) is not None, "the first scheduler leads"
        assert f"pid={a.pid}" in (_lock_holder(db.url) or "")
        b, b_out = _spawn(db.url, tmp_path)
        assert _wait_for(b_out, ": started", 30) is not None
        assert _wait_for(b_out, ": leading", 3) is None, "a second scheduler only follows"
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        took = _wait_for(b_out, ": leading", 10)
        assert took is not None and took < 5, "the follower takes over within a few seconds"
        assert f"pid={b.pid}" in (_lock_holder(db.url) or "")
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
