"""Every statement the worker runs while draining looks deliveries, receipts and bulletins up
by key or by a bounded index range: none walks a table, and none takes the state index to
find rows it names by id (SQLite chose `ix_deliveries_state_lease_expires_at` for
`delivery_id IN (…) AND state IN (settled)`, i.e. every settled delivery ever, per batch)."""

from __future__ import annotations

import asyncio
import re

import pytest
from delivery_helpers import config, enqueue_many, registry
from sqlalchemy import event

from gateway.delivery import outbox
from gateway.delivery.worker import Worker

WATCHED = ("deliveries", "receipts", "receipt_items", "bulletins", "delivery_attempts")


async def test_the_worker_never_scans_what_it_looks_up_by_key(services, db, keys_dir, recording_server):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plans checked are SQLite's (PostgreSQL plans by its statistics)")
    from gateway.clock import SystemClock

    services.clock = SystemClock()
    # settled deliveries already there: a plan walking them shows up as a scan of the state index
    enqueue_many(db, keys_dir, 120, now=services.clock.now())
    reg = registry(keys_dir, config(options={"url": recording_server.url}))
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, PLR0913
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, parameters[0] if executemany else parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        stop = asyncio.Event()
        worker = Worker(services.db, services.clock, reg, poll_interval=0.02)
        task = asyncio.create_task(worker.run(stop))
        for _ in range(600):
            await asyncio.sleep(0.05)
            with db.read() as conn:
                if outbox.count_by_state(conn).get("acknowledged", 0) == 120:
                    break
        stop.set()
        await task
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert any("receipts" in s for s, _ in seen)
    bad = []
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, params in {s: p for s, p in seen}.items():
            plan = " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params or ()))
            for table in WATCHED:
                if re.search(rf"\bSCAN {table}\b(?! USING)", plan):
                    bad.append(f"{statement[:90]}… → {plan}")
            if "delivery_id IN" in statement and "ix_deliveries_state_lease_expires_at" in plan:
                bad.append(f"{statement[:90]}… → {plan}")
    assert not bad, "\n".join(bad)
