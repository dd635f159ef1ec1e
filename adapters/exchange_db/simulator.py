"""The platform's side of the exchange database (`gateway simulate exchange-db`).

It reads the rows that have no verdict yet, validates them (the subject's USCC, the
required fields of the item kind, dates in ISO form) and writes one feedback row per item.
Fault switches: `slow` (seconds per row), `reject` (item ids always rejected), `lock`
(seconds to hold the feedback and data tables locked before reading), `duplicate` (every
verdict written twice, as some platforms do).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from adapters.exchange_db.layout import Layout, Schema
from gateway.domain.identifiers import uscc
from gateway.publication.content import CONTENT, ItemKind

REQUIRED = {ItemKind.PENALTY_PUBLICATION: ("CF_XDR_MC", "CF_WSH", "CF_JDRQ", "CF_CFJG"),
            ItemKind.LICENCE_PUBLICATION: ("XK_XDR_MC", "XK_XKWS", "XK_JDRQ", "XK_XKJG")}


@dataclass
class Faults:
    slow: float = 0.0
    reject: set[str] = field(default_factory=set)
    lock: float = 0.0
    duplicate: bool = False


def validate(kind: ItemKind, row: dict) -> tuple[str, str] | None:
    """(code, message) of the first problem of a row, or None."""
    subject = row.get("subject")
    if not subject or not uscc.is_valid(subject):
        return "E_USCC", f"统一社会信用代码无效: {subject}"
    types = dict(CONTENT[kind][1])
    for name in REQUIRED.get(kind, ()):
        if name in types and not row.get(name):
            return "E_REQUIRED", f"必填字段为空: {name}"
    for name, ftype in types.items():
        if ftype == "date" and row.get(name):
            try:
                dt.date.fromisoformat(row[name])
            except ValueError:
                return "E_DATE", f"日期格式错误: {name}={row[name]}"
    return None


def _lock(conn: sa.Connection, schema: Schema) -> None:
    name = conn.dialect.name
    if name == "postgresql":
        conn.execute(sa.text(f'LOCK TABLE "{schema.feedback.name}" IN ACCESS EXCLUSIVE MODE'))
        for t in schema.data_tables():
            conn.execute(sa.text(f'LOCK TABLE "{t.name}" IN ACCESS EXCLUSIVE MODE'))
    elif name in ("mysql", "mariadb"):
        for t in schema.data_tables():
            conn.execute(sa.select(sa.func.count()).select_from(t).with_for_update())
    elif name == "sqlite":
        conn.exec_driver_sql("BEGIN EXCLUSIVE")


def process(engine: sa.Engine, layout: Layout, faults: Faults | None = None) -> dict[str, int]:
    """One pass: verdicts for every row that has none. Answers counts."""
    faults = faults or Faults()
    schema, c, f = Schema(layout), layout.columns, layout.feedback
    counts = {"read": 0, "accepted": 0, "rejected": 0}
    if faults.lock:
        with engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                conn.begin()
            _lock(conn, schema)
            time.sleep(faults.lock)
            conn.rollback()
    fb = schema.feedback
    with engine.begin() as conn:
        for table in schema.data_tables():
            seen = sa.select(fb.c[f.item_id]).where(fb.c[f.delivery_id] == table.c[c.delivery_id],
                                                     fb.c[f.item_id] == table.c[c.item_id])
            for row in conn.execute(sa.select(table).where(~sa.exists(seen))).mappings():
                counts["read"] += 1
                if faults.slow:
                    time.sleep(faults.slow)
                kind = ItemKind(row[c.kind])
                problem = ("E_TEST", "rejected by the simulator") if row[c.item_id] in faults.reject else \
                    validate(kind, {**row, "subject": row[c.subject]})
                verdict = {f.delivery_id: row[c.delivery_id], f.item_id: row[c.item_id],
                           f.verdict: f.rejected if problem else f.accepted, f.code: problem[0] if problem else None,
                           f.message: problem[1] if problem else None,
                           f.time: dt.datetime.now(dt.UTC).replace(tzinfo=None)}
                conn.execute(fb.insert(), [verdict] * (2 if faults.duplicate else 1))
                counts["rejected" if problem else "accepted"] += 1
    return counts
