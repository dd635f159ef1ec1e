from __future__ import annotations

import asyncio

from delivery_helpers import applied_once, config, enqueue_many, registry

from gateway.delivery import bulletin_store, outbox
from gateway.delivery.worker import Worker


async def _drain(services, reg, expected: int, timeout: float = 60) -> Worker:
    stop = asyncio.Event()
    worker = Worker(services.db, services.clock, reg, poll_interval=0.05)
    task = asyncio.create_task(worker.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with services.db.read() as conn:
            counts = outbox.count_by_state(conn)
        if sum(counts.get(s, 0) for s in outbox.FINAL_STATES) >= expected:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return worker


async def test_deliveries_reach_a_real_http_destination_and_are_acknowledged(services, db, keys_dir, clock,
                                                                             recording_server):
    from gateway.clock import SystemClock

    services.clock = SystemClock()
    ids = enqueue_many(db, keys_dir, 50, now=services.clock.now())
    reg = registry(keys_dir, config(options={"url": recording_server.url}))
    await _drain(services, reg, 50)
    with db.read() as conn:
        assert outbox.count_by_state(conn) == {"acknowledged": 50}
    assert applied_once(recording_server.records()) == {i: 1 for i in ids}


async def test_bulletins_stored_before_their_digests_were_kept_still_settle_by_receipt(services, db, keys_dir,
                                                                                       recording_server):
    """The worker checks a receipt against the digests stored with the bulletin (migration 0016);
    a bulletin stored before has none, and its receipt is checked against its parsed bytes."""
    from sqlalchemy import update

    from gateway.clock import SystemClock
    from gateway.signing.dsig import reference_digests
    from gateway.store.delivery_tables import bulletins

    services.clock = SystemClock()
    ids = enqueue_many(db, keys_dir, 6, now=services.clock.now())
    with db.write() as conn:
        rows = conn.execute(bulletins.select()).all()
        assert all(bulletin_store.digests_of(r) == reference_digests(bytes(r.signed)) for r in rows)
        conn.execute(update(bulletins).where(bulletins.c.id.in_([r.id for r in rows[:3]]))
                     .values(reference_digests=None))
    reg = registry(keys_dir, config(options={"url": recording_server.url}))
    await _drain(services, reg, 6)
    with db.read() as conn:
        assert outbox.count_by_state(conn) == {"acknowledged": 6}
    assert applied_once(recording_server.records()) == {i: 1 for i in ids}
