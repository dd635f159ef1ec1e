"""The bulk writes of an upload (`gateway.store.sql.executemany`): rows handed to the driver
once compiled, with each column converted by its own type, read back exactly as the same
rows written by `Connection.execute`, on either database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select, update

from gateway.changes import feed
from gateway.store import sql
from gateway.store.change_tables import subject_changes
from gateway.store.sql import Deferred, executemany, insert_ignore, insert_many
from gateway.store.tables import agencies, records, subjects

NOW = dt.datetime(2026, 12, 4, 1, 2, 3, 456789, tzinfo=dt.UTC)
CST = dt.timezone(dt.timedelta(hours=8))


def _subjects(db, n: int, now=NOW) -> list[int]:
    with db.write() as conn:
        insert_ignore(conn, subjects, [{"key": f"K{i}", "uscc": None, "category": "enterprise", "name": f"单位{i}",
                                        "region": "510703", "display_id": None, "created_at": now, "changed_at": now}
                                       for i in range(n)], ["key"])
        return list(conn.execute(select(subjects.c.id).order_by(subjects.c.id)).scalars())


def _record(i: int, subject_id: int, agency_id: int, **over) -> dict:
    row = {"uid": f"rec_{i}", "subject_id": subject_id, "agency_id": agency_id, "source_record_id": f"S{i}",
           "kind": "penalty", "version": 1, "status": "current", "action": "publish", "supersedes_uid": None,
           "content_hash": f"{i:064d}", "data": {"CF_WSH": f"罚〔2026〕{i}号", "amount": i / 4, "list": [i, None],
                                                 "nested": {"ok": i % 2 == 0}},
           "region": "510703" if i % 3 else None, "event_date": dt.date(2026, 1, 1) + dt.timedelta(days=i),
           "publish_by": None if i % 2 else dt.date(2026, 2, 1), "publish_by_estimated": i % 2 == 1,
           "reason": None, "batch_id": "bat_1",
           # the same instant for most rows (as an upload's `now`), some given in another zone
           "received_at": NOW if i % 4 else (NOW + dt.timedelta(seconds=i)).astimezone(CST)}
    return {**row, **over}


def _agency(db) -> int:
    with db.write() as conn:
        return conn.execute(agencies.insert().values(code="A", name="局", region="510700", level="city",
                                                     created_at=NOW).returning(agencies.c.id)).scalar_one()


def _stored(db, table, order) -> list[dict]:
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(table).order_by(order))]
    for row in rows:
        row.pop("id", None)
    return rows


def test_rows_written_in_bulk_read_back_as_the_same_rows_written_one_by_one(db):
    agency = _agency(db)
    sids = _subjects(db, 3)
    bulk = [_record(i, sids[i % 3], agency) for i in range(40)]
    single = [{**row, "uid": f"one_{i}", "source_record_id": f"ONE{i}"} for i, row in enumerate(bulk)]
    with db.write() as conn:
        insert_many(conn, records, bulk)
        for row in single:
            conn.execute(records.insert(), row)
    stored = _stored(db, records, records.c.uid)
    by_uid = {r["uid"]: r for r in stored}
    for a, b in zip(bulk, single, strict=True):
        got_a, got_b = dict(by_uid[a["uid"]]), dict(by_uid[b["uid"]])
        for got in (got_a, got_b):
            for k in ("uid", "source_record_id"):
                got.pop(k)
        assert got_a == got_b  # the same values, stored and read back the same way
    assert any(key[0] == ("insert", records) and plan is not None for key, plan in sql._PLANS.items())  # in bulk
    first = by_uid["rec_0"]
    assert first["received_at"] == NOW and first["received_at"].tzinfo == dt.UTC  # converted to UTC, not dropped
    assert by_uid["rec_1"]["data"] == bulk[1]["data"] and by_uid["rec_1"]["publish_by"] is None


def test_rows_leaving_a_python_side_default_to_compute_get_it(db):
    agency = _agency(db)
    [sid] = _subjects(db, 1)
    defaulted = [_record(i, sid, agency) for i in range(3)]
    for row in defaulted:
        row.pop("publish_by_estimated")  # the column's Python-side default (False) fills it
    with db.write() as conn:
        insert_many(conn, records, defaulted)
    stored = {r["uid"]: r for r in _stored(db, records, records.c.uid)}
    assert [stored[f"rec_{i}"]["publish_by_estimated"] for i in range(3)] == [False, False, False]


def test_a_conflicting_row_is_skipped_and_an_update_takes_each_rows_own_values(db):
    sids = _subjects(db, 4)
    later = NOW + dt.timedelta(hours=1)
    with db.write() as conn:
        insert_ignore(conn, subjects, [{"key": "K1", "uscc": None, "category": "enterprise", "name": "别名",
                                        "region": None, "display_id": None, "created_at": later,
                                        "changed_at": later}], ["key"])
        executemany(conn, "test.rename", lambda: update(subjects).where(subjects.c.id == bindparam("sid")).values(
            name=func.coalesce(bindparam("nm"), subjects.c.name), changed_at=bindparam("now")),
            [{"sid": sid, "nm": None if i % 2 else f"新{i}", "now": later} for i, sid in enumerate(sids)])
    rows = _stored(db, subjects, subjects.c.id)
    assert [r["name"] for r in rows] == ["新0", "单位1", "新2", "单位3"]  # K1's conflicting insert did nothing
    assert {r["changed_at"] for r in rows} == {later} and {r["created_at"] for r in rows} == {NOW}


def test_the_feeds_bulk_upsert_keeps_its_constants_counting_and_reviving_quarantined_rows(db):
    sids = _subjects(db, 3)
    with db.write() as conn:
        feed.enqueue(conn, sids, NOW, "intake")
        conn.execute(update(subject_changes).where(subject_changes.c.subject_id == sids[0])
                     .values(state=feed.QUARANTINED, attempts=5))
        conn.execute(update(subject_changes).where(subject_changes.c.subject_id == sids[1]).values(attempts=2))
        feed.enqueue(conn, sids[:2], NOW + dt.timedelta(minutes=1), "transition")
    rows = {r["subject_id"]: r for r in _stored(db, subject_changes, subject_changes.c.subject_id)}
    assert [rows[s]["seq"] for s in sids] == [2, 2, 1]
    assert [rows[s]["attempts"] for s in sids] == [0, 2, 0]  # a quarantined subject gets a fresh run
    assert [rows[s]["state"] for s in sids] == ["pending"] * 3
    assert [rows[s]["cause"] for s in sids] == ["transition", "transition", "intake"]


def test_gathered_writes_of_a_batch_are_flushed_in_bulk(db):
    sids = _subjects(db, 3)
    writes = Deferred()
    for i, sid in enumerate(sids):
        writes.update(subjects, "id", sid, {"name": f"改{i}", "changed_at": NOW + dt.timedelta(seconds=i)})
    with db.write() as conn:
        writes.flush(conn)
    rows = _stored(db, subjects, subjects.c.id)
    assert [(r["name"], r["changed_at"]) for r in rows] == [(f"改{i}", NOW + dt.timedelta(seconds=i)) for i in range(3)]
