"""The exchange database's layout: table and column names, operation flags, the feedback table.

Everything here is configuration (`options.layout` of the destination, or a YAML file named
by `options.layout_file`); the defaults follow the common 前置库 convention:

    table_prefix: ""                      # prepended to every table name
    tables: {penalty.publication: T_SGS_XZCF, ...}   # one table per item kind
    columns: {delivery_id: DELIVERY_ID, item_id: ITEM_ID, batch_id: BATCH_ID,
              operation: CZBS, subject: XDR_SHXYM, created: RKSJ}
    operation_flags: {add: "1", update: "2", delete: "3"}
    feedback: {table: T_FKB, delivery_id: DELIVERY_ID, item_id: ITEM_ID, verdict: FKZT,
               accepted: "1", rejected: "0", code: FKDM, message: FKXX, time: FKSJ}

Data columns are the national field codes of the item kind (`gateway.publication.content`),
as text (lists and measures as JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field

from gateway.publication.content import CONTENT, ItemKind

DEFAULT_TABLES = {
    ItemKind.LICENCE_PUBLICATION: "T_SGS_XZXK", ItemKind.LICENCE_WITHDRAWAL: "T_SGS_XZXK",
    ItemKind.PENALTY_PUBLICATION: "T_SGS_XZCF", ItemKind.PENALTY_WITHDRAWAL: "T_SGS_XZCF",
    ItemKind.LIST_INCLUSION: "T_MD", ItemKind.LIST_CHANGE: "T_MD", ItemKind.LIST_REMOVAL: "T_MD",
    ItemKind.RATING: "T_PJ", ItemKind.COMMITMENT: "T_CN", ItemKind.REPAIR: "T_XF",
}
OPERATION = {ItemKind.LICENCE_WITHDRAWAL: "delete", ItemKind.PENALTY_WITHDRAWAL: "delete",
             ItemKind.LIST_REMOVAL: "delete", ItemKind.LIST_CHANGE: "update"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Model):
    delivery_id: str = "DELIVERY_ID"
    item_id: str = "ITEM_ID"
    batch_id: str = "BATCH_ID"
    operation: str = "CZBS"
    subject: str = "XDR_SHXYM"
    kind: str = "SJLX"
    created: str = "RKSJ"


class OperationFlags(_Model):
    add: str = "1"
    update: str = "2"
    delete: str = "3"


class Feedback(_Model):
    table: str = "T_FKB"
    delivery_id: str = "DELIVERY_ID"
    item_id: str = "ITEM_ID"
    verdict: str = "FKZT"
    accepted: str = "1"
    rejected: str = "0"
    code: str = "FKDM"
    message: str = "FKXX"
    time: str = "FKSJ"


class Layout(_Model):
    table_prefix: str = ""
    tables: dict[str, str] = Field(default_factory=dict)
    columns: Columns = Field(default_factory=Columns)
    operation_flags: OperationFlags = Field(default_factory=OperationFlags)
    feedback: Feedback = Field(default_factory=Feedback)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Layout:
        data = dict(options.get("layout") or {})
        if options.get("layout_file"):
            data = yaml.safe_load(Path(options["layout_file"]).read_text(encoding="utf-8")) or {}
        return cls.model_validate(data)

    def table_name(self, kind: ItemKind) -> str:
        return self.table_prefix + self.tables.get(kind.value, DEFAULT_TABLES[kind])

    def flag(self, kind: ItemKind) -> str:
        return getattr(self.operation_flags, OPERATION.get(kind, "add"))


class Schema:
    """The SQLAlchemy tables of one layout (the platform owns them; `create` is for demos/tests)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.metadata = sa.MetaData()
        self.tables: dict[str, sa.Table] = {}
        c = layout.columns
        for kind in DEFAULT_TABLES:  # the platforms' data kinds (watch notices go to partners only)
            name = layout.table_name(kind)
            fields = [f for f, _ in CONTENT[kind][1]]
            if name in self.tables:
                table = self.tables[name]
                for f in fields:
                    if f not in table.c:
                        table.append_column(sa.Column(f, sa.Text))
                continue
            self.tables[name] = sa.Table(
                name, self.metadata,
                sa.Column(c.delivery_id, sa.String(64), nullable=False),
                sa.Column(c.item_id, sa.String(64), nullable=False),
                sa.Column(c.batch_id, sa.String(64), nullable=False),
                sa.Column(c.operation, sa.String(8), nullable=False),
                sa.Column(c.kind, sa.String(32), nullable=False),
                sa.Column(c.subject, sa.String(32)),
                sa.Column(c.created, sa.DateTime, nullable=False),
                *(sa.Column(f, sa.Text) for f in fields),
                sa.PrimaryKeyConstraint(c.delivery_id, c.item_id),
            )
        f = layout.feedback
        self.feedback = sa.Table(
            layout.table_prefix + f.table, self.metadata,
            sa.Column("ID", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column(f.delivery_id, sa.String(64), nullable=False, index=True),
            sa.Column(f.item_id, sa.String(64), nullable=False),
            sa.Column(f.verdict, sa.String(8), nullable=False),
            sa.Column(f.code, sa.String(64)),
            sa.Column(f.message, sa.Text),
            sa.Column(f.time, sa.DateTime, nullable=False),
        )

        # the gateway's own note of what it sent (the receipt echoes these digests)
        self.deliveries = sa.Table(layout.table_prefix + "GW_DELIVERY", self.metadata,
                                   sa.Column("DELIVERY_ID", sa.String(64), primary_key=True),
                                   sa.Column("DIGESTS", sa.Text, nullable=False))

    def data_tables(self) -> list[sa.Table]:
        return list(self.tables.values())

    def table_for(self, kind: ItemKind) -> sa.Table:
        return self.tables[self.layout.table_name(kind)]

    def create(self, engine: sa.Engine) -> None:
        self.metadata.create_all(engine)

    def drop(self, engine: sa.Engine) -> None:
        self.metadata.drop_all(engine)
