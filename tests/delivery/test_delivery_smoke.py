from __future__ import annotations

import asyncio

from delivery_helpers import applied_once, config, enqueue_many, registry

from gateway.delivery import outbox
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
