"""The exchange-database destination: one transaction per delivery, verdicts from the feedback table.

push:  the bulletin's items become rows (one table per item kind, `layout`), all in one
       transaction, keyed (delivery id, item id): a re-sent delivery finds its rows and writes
       nothing (idempotent). A database that cannot be reached → network_error; a lock wait
       or statement timeout → timeout; any other database error → server_error (retried).
       Success answers `delivered` without a receipt: the delivery awaits its verdicts.
query_receipt: reads the feedback rows of the delivery; once every item has a verdict it
       answers a receipt signed with the adapter's key (`options.keys_dir`, pinned as the
       destination's `trust`) whose per-item outcomes are the verdicts, so rejected-item
       correction, retries and the console treat it like any destination's receipt. A
       duplicated feedback row counts once (the first verdict of an item wins).

Options: url (any SQLAlchemy URL, required), keys_dir (required), layout / layout_file
(`adapters.exchange_db.layout`), create_tables (default false: the platform owns them),
lock_timeout (seconds, default 5).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from adapters.exchange_db.layout import Layout, Schema
from gateway import xmlsafe
from gateway.delivery.port import OutgoingDelivery, PushResult, PushStatus
from gateway.publication.bulletin import read_header, read_items
from gateway.signing.dsig import ReferenceDigest, reference_digests
from gateway.signing.keys import SigningKey


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def engine_for(url: str, lock_timeout: float = 5.0) -> sa.Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": lock_timeout})
    if url.startswith("mysql") or url.startswith("mariadb"):
        return sa.create_engine(url, pool_pre_ping=True, connect_args={
            "init_command": f"SET SESSION innodb_lock_wait_timeout={max(1, int(lock_timeout))}"})
    if url.startswith("postgresql"):
        return sa.create_engine(url, pool_pre_ping=True,
                                connect_args={"options": f"-c lock_timeout={int(lock_timeout * 1000)}"})
    return sa.create_engine(url, pool_pre_ping=True)


def classify(error: sa_exc.SQLAlchemyError) -> PushResult:
    text = str(getattr(error, "orig", error)).lower()
    if "lock" in text or "timeout" in text or "timed out" in text:
        return PushResult(PushStatus.TIMEOUT, error=f"exchange database: {text[:300]}")
    if isinstance(error, sa_exc.OperationalError) and ("connect" in text or "refused" in text):
        return PushResult.network_error(f"exchange database: {text[:300]}")
    return PushResult(PushStatus.SERVER_ERROR, error=f"exchange database: {text[:300]}")


class ExchangeDbDestination:
    def __init__(self, name: str, engine: sa.Engine, layout: Layout, key: SigningKey, *,
                 create_tables: bool = False) -> None:
        self.name = name
        self.engine = engine
        self.schema = Schema(layout)
        self.key = key
        if create_tables:
            self.schema.create(engine)

    # --- push ------------------------------------------------------------------------------

    def rows_of(self, delivery: OutgoingDelivery) -> dict[sa.Table, list[dict[str, Any]]]:
        root = xmlsafe.parse(delivery.signed)
        header, items = read_header(root), read_items(root)
        c, now = self.schema.layout.columns, dt.datetime.now(dt.UTC).replace(tzinfo=None)
        out: dict[sa.Table, list[dict[str, Any]]] = {}
        for item in items:
            table = self.schema.table_for(item.kind)
            row = {c.delivery_id: delivery.delivery_id, c.item_id: item.item_id, c.batch_id: header.bulletin_id,
                   c.operation: self.schema.layout.flag(item.kind), c.kind: item.kind.value,
                   c.subject: item.subject, c.created: now}
            row.update({k: _text(v) for k, v in item.fields.items() if k in table.c})
            out.setdefault(table, []).append(row)
        return out

    def write(self, delivery: OutgoingDelivery) -> int:
        """Insert the delivery's rows in one transaction; 0 if they are there already."""
        rows = self.rows_of(delivery)
        c = self.schema.layout.columns
        with self.engine.begin() as conn:
            for table in rows:
                there = conn.execute(sa.select(sa.func.count()).select_from(table)
                                     .where(table.c[c.delivery_id] == delivery.delivery_id)).scalar_one()
                if there:
                    return 0
            for table, batch in rows.items():
                conn.execute(table.insert(), batch)
            digests = [{"uri": d.uri, "digest_method": d.digest_method, "digest_value": d.digest_value}
                       for d in reference_digests(delivery.signed)]
            conn.execute(self.schema.deliveries.insert(), {"DELIVERY_ID": delivery.delivery_id,
                                                           "DIGESTS": json.dumps(digests)})
        return sum(len(b) for b in rows.values())

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        try:
            await asyncio.to_thread(self.write, delivery)
        except sa_exc.IntegrityError:  # a concurrent attempt wrote the same keys: it is there
            return PushResult.ok(http_status=None)
        except sa_exc.SQLAlchemyError as error:
            return classify(error)
        except Exception as error:  # noqa: BLE001 - an unreadable bulletin is ours to fix
            return PushResult(PushStatus.REJECTED, error=f"bulletin unreadable: {error}"[:500])
        return PushResult.ok(http_status=None)

    # --- verdicts --------------------------------------------------------------------------

    def written_items(self, delivery_id: str) -> list[str]:
        c = self.schema.layout.columns
        with self.engine.connect() as conn:
            return [r for t in self.schema.data_tables() for r in conn.execute(
                sa.select(t.c[c.item_id]).where(t.c[c.delivery_id] == delivery_id)).scalars()]

    def verdicts(self, delivery_id: str) -> dict[str, tuple[str, str | None, str | None]]:
        f, fb = self.schema.layout.feedback, self.schema.feedback
        out: dict[str, tuple[str, str | None, str | None]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(fb.c[f.item_id], fb.c[f.verdict], fb.c[f.code], fb.c[f.message])
                                    .where(fb.c[f.delivery_id] == delivery_id).order_by(fb.c.ID)):
                out.setdefault(row[0], (row[1], row[2], row[3]))
        return out

    def receipt(self, delivery_id: str, bulletin_id: str, signed: bytes | None = None) -> bytes | None:
        from gateway.signing.receipt import ItemOutcome, build_receipt

        items = self.written_items(delivery_id)
        verdicts = self.verdicts(delivery_id)
        if not items or any(i not in verdicts for i in items):
            return None
        f = self.schema.layout.feedback
        outcomes = [ItemOutcome(i, "accepted") if verdicts[i][0] == f.accepted
                    else ItemOutcome(i, "rejected", verdicts[i][1] or "E_REJECTED", verdicts[i][2])
                    for i in sorted(items)]
        digests = reference_digests(signed) if signed else self._digests(delivery_id)
        if not digests:
            return None
        return build_receipt(digests, outcomes, key=self.key, delivery_id=delivery_id, receiver=self.name,
                             bulletin_id=bulletin_id, receipt_id=f"r-{delivery_id}")

    def _digests(self, delivery_id: str) -> tuple[ReferenceDigest, ...]:
        d = self.schema.deliveries
        with self.engine.connect() as conn:
            text = conn.execute(sa.select(d.c.DIGESTS).where(d.c["DELIVERY_ID"] == delivery_id)).scalar()
        return tuple(ReferenceDigest(**x) for x in json.loads(text)) if text else ()

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self.receipt, delivery_id, bulletin_id)
        except sa_exc.SQLAlchemyError:
            return None

    async def aclose(self) -> None:
        await asyncio.to_thread(self.engine.dispose)


def factory(config: Any) -> ExchangeDbDestination:
    """Build from a `DestinationConfig` (`adapter: adapters.exchange_db:factory`)."""
    from adapters._http import AdapterConfigError
    from gateway.paths import ROOT
    from gateway.signing.keys import load_keyring

    options = dict(config.options)
    if not options.get("url") or not options.get("keys_dir"):
        raise AdapterConfigError(f"destination {config.name!r}: exchange_db needs options.url and options.keys_dir")
    keys_dir = Path(options["keys_dir"])
    key = load_keyring(keys_dir if keys_dir.is_absolute() else ROOT / keys_dir).active
    lock_timeout = float(options.get("lock_timeout", 5.0))
    return ExchangeDbDestination(config.name, engine_for(options["url"], lock_timeout), Layout.from_options(options),
                                 key, create_tables=bool(options.get("create_tables", False)))
