"""The outbox on both databases: enqueue, the atomic claim, leases, and the worker's decisions
(retry, reject, dead, breaker) with a frozen clock and a scripted destination."""

from __future__ import annotations

import datetime as dt

import pytest
from delivery_helpers import SCRIPTS, config, enqueue_many, registry, sign

from gateway.delivery import breaker_store, bulletin_store, outbox
from gateway.delivery.port import PushResult
from gateway.delivery.worker import Worker


def scripted(keys_dir, script, steps, **kw):
    SCRIPTS[script] = list(steps)
    return registry(keys_dir, config(adapter="delivery_helpers:scripted_factory", options={"script": script}, **kw))


def states(db):
    with db.read() as conn:
        return outbox.count_by_state(conn)


def one(db, delivery_id):
    with db.read() as conn:
        return outbox.get_delivery(conn, delivery_id)


def test_enqueue_keeps_the_exact_signed_bytes_and_numbers_bulletins_per_destination(db, keys_dir, clock):
    data, items = sign(keys_dir, "b-1", 1)
    with db.write() as conn:
        assert outbox.next_sequence(conn, "local") == 1
        did = outbox.enqueue_bulletin(conn, destination="local", signed=data, bulletin_id="b-1", sequence=1,
                                      kind="rating", items=[(items[0], "rec-1", "S", "rating")], now=clock.now())
        assert outbox.next_sequence(conn, "local") == 2
        assert outbox.next_sequence(conn, "other") == 1
    with db.read() as conn:
        assert bytes(bulletin_store.get_bulletin(conn, "b-1").signed) == data
        row = outbox.get_delivery(conn, did)
        assert (row.state, row.attempts, row.destination) == ("pending", 0, "local")
        assert [i.record_uid for i in bulletin_store.items_of(conn, "b-1")] == ["rec-1"]
    with pytest.raises(outbox.DuplicateBulletin), db.write() as conn:
        outbox.enqueue_bulletin(conn, destination="local", signed=data, bulletin_id="b-2", sequence=1,
                                kind="rating", items=[], now=clock.now())


def test_claim_takes_due_deliveries_once_with_a_lease_and_the_reaper_returns_expired_ones(db, keys_dir, clock):
    ids = enqueue_many(db, keys_dir, 5, now=clock.now())
    now = clock.now()
    with db.write() as conn:
        first = outbox.claim(conn, destination="local", worker="w1", limit=3, now=now, lease_seconds=30)
        second = outbox.claim(conn, destination="local", worker="w2", limit=10, now=now, lease_seconds=30)
        none_left = outbox.claim(conn, destination="local", worker="w3", limit=10, now=now, lease_seconds=30)
    assert len(first) == 3 and len(second) == 2 and none_left == []
    assert {c.delivery_id for c in first + second} == set(ids)
    assert all(c.attempt == 1 and c.lease_expires_at == now + dt.timedelta(seconds=30) for c in first)
    assert one(db, first[0].delivery_id).lease_owner == "w1"
    with db.write() as conn:
        assert outbox.reap_expired_leases(conn, now + dt.timedelta(seconds=29)) == []
        reaped = outbox.reap_expired_leases(conn, now + dt.timedelta(seconds=31))
    assert set(reaped) == set(ids)
    row = one(db, ids[0])
    assert row.state == "pending" and row.lease_owner is None and "lease expired" in row.last_error
    with db.read() as conn:
        assert [a.outcome for a in outbox.attempts_of(conn, ids[0])] == ["lease_expired"]


def test_a_lost_lease_cannot_overwrite_what_another_worker_did(db, keys_dir, clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    now = clock.now()
    with db.write() as conn:
        outbox.claim(conn, destination="local", worker="w1", limit=1, now=now, lease_seconds=1)
        outbox.reap_expired_leases(conn, now + dt.timedelta(seconds=2))
        outbox.claim(conn, destination="local", worker="w2", limit=1, now=now + dt.timedelta(seconds=2),
                     lease_seconds=30)
        assert not outbox.mark_final(conn, delivery_id=did, worker="w1", now=now, state="dead", error="late")
    assert one(db, did).state == "sending" and one(db, did).lease_owner == "w2"


def test_batched_retry_and_final_changes_touch_only_the_deliveries_this_worker_still_leases(db, keys_dir, clock):
    ids = enqueue_many(db, keys_dir, 4, now=clock.now())
    now = clock.now()
    later = now + dt.timedelta(seconds=60)
    with db.write() as conn:
        mine = [c.delivery_id for c in outbox.claim(conn, destination="local", worker="w1", limit=3, now=now,
                                                     lease_seconds=30)]
        theirs = [c.delivery_id for c in outbox.claim(conn, destination="local", worker="w2", limit=1, now=now,
                                                       lease_seconds=30)]
        # one statement for all, the other worker's delivery among them: only w1's change
        assert outbox.mark_retry_many(conn, worker="w1", now=now, entries=[
            (mine[0], later, "503 busy"), (mine[1], later, "timeout"), (theirs[0], later, "not mine")]) == 2
        assert outbox.mark_final_many(conn, worker="w1", now=now, state="dead", entries=[
            (mine[2], "gave up"), (theirs[0], "not mine"), (mine[0], "no longer leased")]) == 1
    assert sorted(mine + theirs) == sorted(ids)
    rows = {did: one(db, did) for did in ids}
    assert [(rows[d].state, rows[d].last_error) for d in mine] == [
        ("retry_wait", "503 busy"), ("retry_wait", "timeout"), ("dead", "gave up")]
    assert rows[mine[0]].next_attempt_at.replace(tzinfo=None) == later.replace(tzinfo=None)
    assert rows[theirs[0]].state == "sending" and rows[theirs[0]].lease_owner == "w2"
    assert rows[theirs[0]].last_error is None


async def test_a_5xx_waits_per_policy_then_succeeds_with_the_same_delivery_id(services, db, keys_dir, clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    reg = scripted(keys_dir, "flaky", [PushResult.from_http(503, {}, b"busy"), PushResult.ok(None, 202)],
                   retry={"strategy": "constant", "base": 30})
    worker = Worker(services.db, services.clock, reg)
    assert await worker.run_once() == 1
    row = one(db, did)
    assert row.state == "retry_wait" and row.next_attempt_at == clock.now() + dt.timedelta(seconds=30)
    assert "503" in row.last_error
    assert await worker.run_once() == 0  # not due yet
    clock.advance(seconds=30)
    assert await worker.run_once() == 1
    assert one(db, did).state == "awaiting_receipt" and one(db, did).attempts == 2
    adapter = reg.adapter("local")
    assert [d.delivery_id for d in adapter.sent] == [did, did] and [d.attempt for d in adapter.sent] == [1, 2]
    with db.read() as conn:
        assert [(a.outcome, a.http_status) for a in outbox.attempts_of(conn, did)] == [
            ("server_error", 503), ("delivered", 202)]
    await worker.aclose()


async def test_a_4xx_rejects_without_retry(services, db, keys_dir, clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    worker = Worker(services.db, services.clock, scripted(keys_dir, "strict", [PushResult.from_http(422, {}, b"bad field")]))
    await worker.run_once()
    row = one(db, did)
    assert row.state == "rejected" and "422" in row.last_error and row.attempts == 1
    await worker.aclose()


async def test_429_retry_after_is_honoured(services, db, keys_dir, clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    reg = scripted(keys_dir, "throttle", [PushResult.from_http(429, {"Retry-After": "120"}, b"")],
                   retry={"strategy": "constant", "base": 1})
    worker = Worker(services.db, services.clock, reg)
    await worker.run_once()
    assert one(db, did).next_attempt_at == clock.now() + dt.timedelta(seconds=120)
    await worker.aclose()


async def test_the_policy_gives_up_and_the_delivery_is_dead_with_a_reason(services, db, keys_dir, clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    reg = scripted(keys_dir, "down", [PushResult.network_error(ConnectionRefusedError("refused"))],
                   retry={"strategy": "constant", "base": 1, "max_attempts": 3}, breaker={"failure_threshold": 100})
    worker = Worker(services.db, services.clock, reg)
    for _ in range(3):
        await worker.run_once()
        clock.advance(seconds=1)
    row = one(db, did)
    assert row.state == "dead" and "gave up after 3 attempts" in row.last_error and "refused" in row.last_error
    with db.write() as conn:
        assert outbox.requeue(conn, did, clock.now()) == "pending"
    assert one(db, did).attempts == 0
    await worker.aclose()


async def test_an_open_breaker_stops_claims_so_waiting_deliveries_keep_their_attempts(services, db, keys_dir, clock):
    ids = enqueue_many(db, keys_dir, 10, now=clock.now())
    reg = scripted(keys_dir, "outage", [PushResult.from_http(503, {}, b"down")],
                   retry={"strategy": "constant", "base": 1}, breaker={"failure_threshold": 3, "open_seconds": 60},
                   concurrency=3)
    worker = Worker(services.db, services.clock, reg)
    assert await worker.run_once() == 3  # three failures open the breaker
    with db.read() as conn:
        assert breaker_store.load(conn, "local").state == "open"
    clock.advance(seconds=30)
    assert await worker.run_once() == 0  # open: nothing claimed, nothing burned
    assert sum(one(db, i).attempts for i in ids) == 3
    clock.advance(seconds=30)
    SCRIPTS["outage"] = [PushResult.ok(None, 202)]
    assert await worker.run_once() == 1  # the one half-open probe
    with db.read() as conn:
        assert breaker_store.load(conn, "local").state == "closed"
    while await worker.run_once():
        pass
    assert states(db) == {"awaiting_receipt": 10}
    await worker.aclose()
