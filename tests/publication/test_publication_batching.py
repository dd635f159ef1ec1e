"""Batching: size and age limits, crash safety, no item in two bulletins."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from gateway.publication import batching
from gateway.publication.bulletin import parse_bulletin
from gateway.signing.dsig import Trust
from gateway.store.delivery_tables import bulletin_items, bulletins, deliveries
from gateway.store.publication_tables import publication_items as pi
from tests.factories import make_uscc, penalty

from .conftest import registry

DEST = "national-platform"
LAYOUT = {DEST: {"sector": "platform", "item_kinds": ["penalty"]}}


@pytest.fixture
def destinations():
    return registry(LAYOUT, max_items=3, max_age_seconds=600)


@pytest.fixture
def small(pub):
    return pub


def queue_penalties(services, n, start=0):
    code = make_uscc(500 + start)
    records = [penalty(f"P-{start + i}", code) for i in range(n)]
    result = services.intake.submit("MY-AJJ", records)
    assert result.counts()["accepted"] == n
    services.consumer.drain()


def states(services):
    with services.db.read() as conn:
        return dict(conn.execute(select(pi.c.state, func.count()).group_by(pi.c.state)).all())


def count(services, table):
    with services.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_full_batches_go_at_once_and_the_rest_waits_for_the_age_limit(small, clock):
    queue_penalties(small, 7)
    assert states(small) == {"pending": 7}
    made = small.publication.push_cycle(DEST)
    assert len(made) == 2 and states(small) == {"pending": 1, "batched": 6}
    clock.advance(seconds=599)
    assert small.publication.push_cycle(DEST) == []
    clock.advance(seconds=1)
    assert len(small.publication.push_cycle(DEST)) == 1
    assert states(small) == {"batched": 7}
    with small.db.read() as conn:
        seqs = [r.sequence for r in conn.execute(select(bulletins).order_by(bulletins.c.sequence))]
        counts = [r.item_count for r in conn.execute(select(bulletins).order_by(bulletins.c.sequence))]
    assert seqs == [1, 2, 3] and counts == [3, 3, 1]


def test_bulletin_is_signed_and_carries_the_queued_items(small, keyring, clock):
    queue_penalties(small, 3)
    [bulletin_id] = small.publication.push_cycle(DEST)
    with small.db.read() as conn:
        signed = conn.execute(select(bulletins.c.signed).where(bulletins.c.id == bulletin_id)).scalar_one()
        queued = [r.item_id for r in conn.execute(select(pi).order_by(pi.c.id))]
    verified = parse_bulletin(signed, Trust("gw", (keyring.active.certificate,)))
    assert verified.header.destination == DEST and verified.header.sequence == 1
    assert verified.header.kind == "publication"
    assert [i.item_id for i in verified.items] == queued


def test_withdrawal_refers_to_the_bulletin_that_published_the_item(small, keyring, clock):
    queue_penalties(small, 1)
    [first] = small.publication.push_cycle(DEST, force=True)
    small.intake.submit("MY-AJJ", [{"action": "withdraw", "source_record_id": "P-0", "reason": "revoked"}])
    small.consumer.drain()
    [second] = small.publication.push_cycle(DEST, force=True)
    with small.db.read() as conn:
        signed = conn.execute(select(bulletins.c.signed).where(bulletins.c.id == second)).scalar_one()
    [item] = parse_bulletin(signed, Trust("gw", (keyring.active.certificate,))).items
    assert item.kind == "penalty.withdrawal" and item.fields["ref_bulletin_id"] == first


def test_crash_between_signing_and_commit_leaves_items_pending_and_no_bulletin(small, monkeypatch):
    queue_penalties(small, 3)
    real = batching.repo.mark_batched

    def mark_then_crash(conn, ids, bulletin_id, now):
        real(conn, ids, bulletin_id, now)  # signed, handed to the outbox, marked: then the process dies
        raise RuntimeError("crash before commit")

    monkeypatch.setattr(batching.repo, "mark_batched", mark_then_crash)
    with pytest.raises(RuntimeError, match="crash before commit"):
        small.publication.push_cycle(DEST)
    assert states(small) == {"pending": 3}
    assert count(small, bulletins) == 0 and count(small, deliveries) == 0 and count(small, bulletin_items) == 0
    monkeypatch.setattr(batching.repo, "mark_batched", real)
    assert len(small.publication.push_cycle(DEST)) == 1  # and the next cycle sends them, once
    assert states(small) == {"batched": 3} and count(small, deliveries) == 1


def test_concurrent_batchers_never_put_an_item_in_two_bulletins(small):
    queue_penalties(small, 9)
    errors = []

    def run():
        try:
            small.publication.push_cycle(DEST, force=True)
        except Exception as exc:  # noqa: BLE001 - a lost race may roll back; it must not duplicate
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if states(small).get("pending"):
        small.publication.push_cycle(DEST, force=True)
    assert states(small) == {"batched": 9}
    with small.db.read() as conn:
        rows = conn.execute(select(bulletin_items.c.item_id)).scalars().all()
    assert len(rows) == len(set(rows)) == 9
    assert all(isinstance(e, (batching.ConcurrentBatch, Exception)) for e in errors)


def test_is_due_by_size_and_age():
    import datetime as dt

    limits = batching.BatchLimits(max_items=10, max_age_seconds=60)
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert not batching.is_due(0, None, now, limits, force=True)
    assert batching.is_due(10, now, now, limits)
    assert not batching.is_due(9, now - dt.timedelta(seconds=59), now, limits)
    assert batching.is_due(1, now - dt.timedelta(seconds=60), now, limits)
    assert batching.is_due(1, now, now, limits, force=True)
