"""Reliability proofs with real processes: `gateway worker` subprocesses killed with SIGKILL,
two workers racing on PostgreSQL, a destination that goes down and comes back, and a
PostgreSQL restart. The destination is a real HTTP server that records every request to a
file, so what it received is independent of the processes we kill. In the kill -9 proofs it
does not de-duplicate: every arrival is applied and gets its own receipt, so a double send
or a double apply by the gateway would show."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest
from delivery_helpers import (
    check_arrivals_and_applies,
    check_effect_once,
    config,
    enqueue_many,
    env_for,
    start_worker,
    stop_process,
    wait_final,
    write_destinations_file,
)


def _setup(db, keys_dir, tmp_path, server, count, **cfg):
    cfg = {"options": {"url": server.url}, "lease_seconds": 2, "concurrency": 8,
           "retry": {"strategy": "constant", "base": 0.2, "max_attempts": 1000}, **cfg}
    dest_file = write_destinations_file(tmp_path / "destinations.yaml", config(**cfg))
    ids = enqueue_many(db, keys_dir, count, now=_now())
    return ids, env_for(db.url, dest_file, keys_dir)


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def _kill_run(db, keys_dir, tmp_path, server, count, kills, seed):
    ids, env = _setup(db, keys_dir, tmp_path, server, count)
    server.set_mode(delay=0.005, dedupe=False)  # nothing at the destination hides a double send
    rng = random.Random(seed)
    log = tmp_path / "workers.log"
    for k in range(kills):
        proc = start_worker(env, log, f"doomed-{k}")
        # kill once it is sending (not after a fixed time: on a loaded machine start-up alone can
        # outlast it, and a kill before the first claim proves nothing), a little later each time
        if not _wait_for_new_arrivals(server, timeout=60):
            proc.kill()
            proc.wait()
            break
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = start_worker(env, log, "survivor")
    try:
        counts = wait_final(db, count, timeout=180)
    finally:
        stop_process(final)
    assert counts == {"acknowledged": count}, (counts, log.read_text()[-3000:])
    figures = check_arrivals_and_applies(db, server.records(), ids)
    # the kills landed mid-send: deliveries were claimed by a worker that died before recording a result
    assert figures["lease_expired"] >= 1, figures
    assert figures["applies"] == count <= figures["arrivals"], figures
    return figures


def _wait_for_new_arrivals(server, timeout: float) -> bool:
    """Wait until the destination's record file grows (a worker is sending)."""
    path = server.record_file
    size = path.stat().st_size if path.exists() else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > size:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_kill_9_workers_repeatedly_loses_nothing_and_applies_each_delivery_once(db, keys_dir, tmp_path,
                                                                             recording_server):
    figures = _kill_run(db, keys_dir, tmp_path, recording_server, 300, kills=6, seed=5)
    print(figures)


@pytest.mark.slow
def test_kill_9_during_thousands_of_deliveries(db, keys_dir, tmp_path, recording_server):
    figures = _kill_run(db, keys_dir, tmp_path, recording_server, 3000, kills=15, seed=11)
    # with thousands in flight some kills land after the destination answered and before the
    # result was committed: those deliveries arrived twice and were still applied once
    assert figures["resent"] >= 1, figures
    print(figures)


def test_the_arrival_check_catches_one_delivery_in_flight_twice_and_a_changed_resend(db):
    # the checker itself can fail: two arrivals of one delivery whose handling intersects
    arrival = {"delivery_id": "d-1", "bulletin_id": "b-1", "attempt": 1, "digest": "x", "items": [],
               "receipt_id": "r-d-1-1", "applied": True, "overlap": False, "status": 200, "t": 10.0, "t_end": 10.5}
    again = {**arrival, "attempt": 2, "receipt_id": "r-d-1-2", "t": 10.2, "t_end": 10.6}
    with pytest.raises(AssertionError, match="in flight twice at once"):
        check_arrivals_and_applies(db, [arrival, again], ["d-1"])
    with pytest.raises(AssertionError, match="re-sent with other bytes"):
        check_arrivals_and_applies(db, [arrival, {**again, "t": 11.0, "t_end": 11.1, "digest": "y"}], ["d-1"])
    with pytest.raises(AssertionError, match="one attempt number"):
        check_arrivals_and_applies(db, [arrival, {**again, "t": 11.0, "t_end": 11.1, "attempt": 1}], ["d-1"])


def test_two_workers_on_postgresql_never_send_one_delivery_at_the_same_time(pg_only, keys_dir, tmp_path,
                                                                           recording_server):
    db = pg_only
    ids, env = _setup(db, keys_dir, tmp_path, recording_server, 400, lease_seconds=10, concurrency=16)
    recording_server.set_mode(delay=0.02)  # hold each request open: overlaps would be visible
    log = tmp_path / "workers.log"
    procs = [start_worker(env, log, f"w{k}") for k in range(3)]
    try:
        counts = wait_final(db, 400, timeout=180)
    finally:
        for p in procs:
            stop_process(p)
    assert counts == {"acknowledged": 400}, (counts, log.read_text()[-3000:])
    records = recording_server.records()
    assert not [r for r in records if r["overlap"]], "two workers sent one delivery at the same time"
    assert len(records) == 400, "a delivery was sent twice although no worker died"
    check_effect_once(db, records, ids)
    from gateway.delivery import outbox

    with db.read() as conn:
        workers = {a.worker for did in ids[:50] for a in outbox.attempts_of(conn, did)}
    assert len(workers) > 1, "only one worker did anything: the race was not exercised"


async def test_a_destination_down_opens_the_breaker_and_the_backlog_drains_at_the_rate_limit(
        services, db, keys_dir, tmp_path, recording_server):
    import asyncio

    from delivery_helpers import registry

    from gateway.clock import SystemClock
    from gateway.delivery import breaker_store, outbox
    from gateway.delivery.worker import Worker

    services.clock = SystemClock()
    rate, count = 20, 60
    ids = enqueue_many(db, keys_dir, count, now=services.clock.now())
    reg = registry(keys_dir, config(options={"url": recording_server.url}, concurrency=8, lease_seconds=5,
                                    rate_limit={"per_second": rate},
                                    breaker={"failure_threshold": 3, "open_seconds": 0.5},
                                    retry={"strategy": "constant", "base": 0.1, "max_attempts": 100}))
    recording_server.set_mode(status=503, retry_after=None)
    stop = asyncio.Event()
    worker = Worker(services.db, services.clock, reg, poll_interval=0.05)
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(3.0)
        with db.read() as conn:
            st = breaker_store.load(conn, "local")
            burned = sum(r.attempts for r in outbox.list_deliveries(conn, limit=count))
        assert st.state in ("open", "half_open"), st
        # 3 failures open it, then one probe per open period (0.5 s) at most: far fewer than 60 x retries
        assert burned <= 8 + 3.0 / 0.5 + 2, burned
        assert not [r for r in recording_server.records() if r["status"] == 200]
        up_at = time.time()
        recording_server.set_mode(status=None)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.read() as conn:
                if outbox.count_by_state(conn).get("acknowledged") == count:
                    break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
    applied = sorted(r["t"] for r in recording_server.records() if r["applied"])
    assert len(applied) == count
    # no burst beyond the limit: any 1-second window holds at most rate + burst (2) requests
    worst = max(sum(1 for t in applied[i:] if t < start + 1.0) for i, start in enumerate(applied))
    assert worst <= rate + 2, worst
    duration = applied[-1] - applied[0]
    assert duration >= (count - 2 - 1) / rate * 0.9, duration  # it really was paced
    assert applied[0] >= up_at - 0.01
    check_effect_once(db, recording_server.records(), ids)


@pytest.mark.slow
def test_postgresql_restart_mid_run_workers_reconnect_and_finish(pg_only, keys_dir, tmp_path, recording_server):
    import os

    db = pg_only
    count = 1500
    ids, env = _setup(db, keys_dir, tmp_path, recording_server, count, lease_seconds=5)
    recording_server.set_mode(delay=0.01)
    log = tmp_path / "workers.log"
    procs = [start_worker(env, log, f"w{k}") for k in range(2)]
    cluster = sorted(os.listdir("/etc/postgresql"))[0]
    try:
        time.sleep(4)
        with db.read() as conn:
            from gateway.delivery import outbox

            mid = outbox.count_by_state(conn)
        assert mid.get("acknowledged", 0) < count, "finished before the restart: make the run longer"
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True,
                       timeout=120)
        counts = wait_final(db, count, timeout=300)
    finally:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "start"], timeout=120,
                       capture_output=True)  # never leave the server down (a no-op when it is up)
        for p in procs:
            stop_process(p)
    _dispose_all_engines()
    assert counts == {"acknowledged": count}, (counts, log.read_text()[-3000:])
    check_effect_once(db, recording_server.records(), ids)


def _dispose_all_engines() -> None:
    """Drop pooled connections the restart killed, in every engine of this test session
    (the session fixtures' engines too: their next use would otherwise meet a dead socket)."""
    import gc

    from sqlalchemy.engine import Engine

    for obj in gc.get_objects():
        if isinstance(obj, Engine) and obj.dialect.name == "postgresql":
            obj.dispose()
