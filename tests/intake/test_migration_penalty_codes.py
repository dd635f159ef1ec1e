"""Migration 0008: penalties stored under the old codes (CF_XZCFJDSWH, CF_WFSS) are renamed to
the platforms' codes (CF_WSH, CF_SY), with content hashes re-derived so a resend is a duplicate."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import insert, select

from gateway.intake.prepare import content_hash
from gateway.store import migrate
from gateway.store.db import Database
from gateway.store.publication_tables import publication_items
from gateway.store.tables import agencies, records, subjects

USCC = "91510703MA6CXXXXX0"
NOW = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
OLD = {"CF_XDR_MC": "绵阳某化工有限公司", "CF_XZCFJDSWH": "绵应急罚〔2025〕13号", "CF_WFSS": "未培训",
       "CF_JDRQ": "2025-05-20"}


def _old_rows(db: Database) -> None:
    with db.write() as conn:
        aid = conn.execute(insert(agencies).values(code="MY-AJJ", name="绵阳市应急管理局", region="510700",
                                                   level="city", created_at=NOW).returning(agencies.c.id)).scalar_one()
        sid = conn.execute(insert(subjects).values(key=USCC, uscc=USCC, category="legal_person", created_at=NOW,
                                                   changed_at=NOW).returning(subjects.c.id)).scalar_one()
        for i, (kind, data) in enumerate((("penalty", OLD), ("licence", {"XK_WSH": "许字1号"}))):
            conn.execute(insert(records).values(
                uid=f"rec{i}", subject_id=sid, agency_id=aid, source_record_id=f"S{i}", kind=kind, version=1,
                status="current", action="publish", content_hash=content_hash(kind, "publish", USCC, data),
                data=data, received_at=NOW))
        for i, state in enumerate(("pending", "batched")):
            conn.execute(insert(publication_items).values(
                item_id=f"it{i}", destination="d", source_key=f"rec:rec0:{i}", kind="penalty_publication",
                subject=USCC, fields=dict(OLD), state=state, created_at=NOW))


def test_stored_penalties_take_the_platform_codes_and_hashes_follow(unmigrated_db) -> None:
    migrate.upgrade(unmigrated_db, "0007")
    _old_rows(unmigrated_db)

    migrate.upgrade(unmigrated_db)

    with unmigrated_db.read() as conn:
        rows = {r.kind: r for r in conn.execute(select(records))}
        items = {r.state: r.fields for r in conn.execute(select(publication_items))}
    penalty = rows["penalty"]
    data = penalty.data if isinstance(penalty.data, dict) else json.loads(penalty.data)
    assert data == {"CF_XDR_MC": "绵阳某化工有限公司", "CF_WSH": "绵应急罚〔2025〕13号", "CF_SY": "未培训",
                    "CF_JDRQ": "2025-05-20"}
    assert penalty.content_hash == content_hash("penalty", "publish", USCC, data)
    assert rows["licence"].content_hash == content_hash("licence", "publish", USCC, {"XK_WSH": "许字1号"})
    assert "CF_WSH" in items["pending"] and "CF_XZCFJDSWH" not in items["pending"]
    assert items["batched"] == OLD  # already sent, signed as it was


def test_the_rename_is_undone_by_the_downgrade(unmigrated_db) -> None:
    from alembic import command

    migrate.upgrade(unmigrated_db, "0007")
    _old_rows(unmigrated_db)
    migrate.upgrade(unmigrated_db, "0008")
    cfg = migrate.alembic_config(unmigrated_db)
    with unmigrated_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    with unmigrated_db.read() as conn:
        penalty = conn.execute(select(records).where(records.c.kind == "penalty")).one()
    assert penalty.data == OLD
    assert penalty.content_hash == content_hash("penalty", "publish", USCC, OLD)
