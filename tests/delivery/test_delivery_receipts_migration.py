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
