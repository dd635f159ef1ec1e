"""Migration 0009: a conflict stored as an `error` text prefix becomes `receipts.conflict`
(and back on downgrade); the refused-receipts table comes and goes. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import insert, inspect, select, text

from gateway.store import migrate
from gateway.store.db import Database
from gateway.store.delivery_tables import bulletins, deliveries, receipts

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
OLD_CONFLICT = ("conflict: the delivery was already settled by an earlier signed receipt with other outcomes; "
                "kept, not applied")


def _downgrade(db: Database, revision: str) -> None:
    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_conflicts_move_from_the_error_text_to_a_column_and_back(unmigrated_db):
    migrate.upgrade(unmigrated_db, "0008")
    with unmigrated_db.engine.begin() as conn:
        conn.execute(insert(bulletins).values(id="b-1", destination="d", sequence=1, kind="rating", item_count=1,
                                              signed=b"<b/>", digest="0" * 64, created_at=NOW))
        conn.execute(insert(deliveries).values(delivery_id="d-1", bulletin_id="b-1", destination="d",
                                               state="acknowledged", attempts=1, next_attempt_at=NOW,
                                               receipt_overdue=False, bad_receipts=0, created_at=NOW, updated_at=NOW))
        for n, error in enumerate([None, OLD_CONFLICT, "signature: bad"], 1):
            conn.execute(insert(receipts).values(id=n, delivery_id="d-1", receipt_id=f"r-{n}", received_at=NOW,
                                                 signed=b"<r/>", content_hash=str(n) * 64, verified=error is None
                                                 or error == OLD_CONFLICT, duplicate=False, duplicate_count=0,
                                                 error=error, channel="async"))
    migrate.upgrade(unmigrated_db, "0009")
    with unmigrated_db.engine.connect() as conn:
        rows = conn.execute(select(receipts.c.id, receipts.c.conflict, receipts.c.error).order_by(receipts.c.id)).all()
        assert [tuple(r) for r in rows] == [(1, False, None), (2, True, None), (3, False, "signature: bad")]
        assert "refused_receipts" in inspect(conn).get_table_names()
    _downgrade(unmigrated_db, "0008")
    with unmigrated_db.engine.connect() as conn:
        errors = [r[0] for r in conn.execute(text("SELECT error FROM receipts ORDER BY id"))]
        assert errors == [None, OLD_CONFLICT, "signature: bad"]
        assert "refused_receipts" not in inspect(conn).get_table_names()
        assert "conflict" not in {c["name"] for c in inspect(conn).get_columns("receipts")}


def test_bulletins_stored_before_0016_keep_no_digests_and_are_read_from_their_bytes(unmigrated_db, keys_dir):
    """Migration 0016 adds `bulletins.reference_digests`: a bulletin stored before has none, and
    what a receipt must echo is read from its signed bytes; the downgrade drops the column."""
    from delivery_helpers import sign

    from gateway.delivery import bulletin_store
    from gateway.signing.dsig import reference_digests

    signed, _items = sign(keys_dir, "b-old", 1)
    migrate.upgrade(unmigrated_db, "0015")
    with unmigrated_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bulletins (id, destination, sequence, kind, item_count, signed, digest, "
                          "created_at) VALUES ('b-old', 'local', 1, 'rating', 1, :s, :d, :t)"),
                     {"s": signed, "d": "0" * 64, "t": NOW})
    migrate.upgrade(unmigrated_db)
    with unmigrated_db.engine.connect() as conn:
        row = bulletin_store.get_bulletin(conn, "b-old")
        assert row.reference_digests is None
        assert bulletin_store.digests_of(row) == reference_digests(signed)
        assert bulletin_store.signed_bulletins(conn, ["b-old"])["b-old"].digests == reference_digests(signed)
    _downgrade(unmigrated_db, "0015")
    with unmigrated_db.engine.connect() as conn:
        assert "reference_digests" not in {c["name"] for c in inspect(conn).get_columns("bulletins")}
