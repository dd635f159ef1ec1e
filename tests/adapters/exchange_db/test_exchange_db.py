"""The exchange-database destination on SQLite, PostgreSQL and MariaDB (per-session table prefix)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import sqlalchemy as sa

from adapters.exchange_db.adapter import ExchangeDbDestination, engine_for
from adapters.exchange_db.layout import Layout
from adapters.exchange_db.simulator import Faults, process
from gateway.delivery.port import PushStatus
from gateway.delivery.receipts import verify_for_delivery
from gateway.signing.dsig import Trust
from tests.adapters.adapter_helpers import delivery, penalty_item, signed_bulletin

PREFIX = f"T{uuid.uuid4().hex[:6].upper()}_"


def _urls(tmp_path_factory):
    yield "sqlite", f"sqlite:///{tmp_path_factory.mktemp('xdb') / 'exchange.db'}"
    yield "postgresql", os.environ.get("GATEWAY_TEST_DATABASE_URL")
    yield "mariadb", os.environ.get("GATEWAY_TEST_MARIADB_URL")


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def exchange(request, tmp_path_factory, gateway_keyring):
    url = dict(_urls(tmp_path_factory))[request.param]
    if not url:
        pytest.skip(f"{request.param}: set GATEWAY_TEST_{'DATABASE' if request.param == 'postgresql' else 'MARIADB'}_URL")
    layout = Layout(table_prefix=PREFIX + request.param[:2].upper() + "_",
                    operation_flags={"add": "I", "update": "U", "delete": "D"})
    engine = engine_for(url, lock_timeout=1)
    dest = ExchangeDbDestination("exchange-db", engine, layout, gateway_keyring.active, create_tables=True)
    yield dest, engine, layout
    dest.schema.drop(engine)
    engine.dispose()


def _trust(gateway_keyring):
    return Trust("exchange-db", tuple(k.certificate for k in gateway_keyring))


def test_exchange_db_writes_rows_once_per_delivery(exchange, gateway_key):
    dest, engine, layout = exchange
    signed = signed_bulletin(gateway_key, [penalty_item("it-1"), penalty_item("it-2")])
    d = delivery(signed)
    assert asyncio.run(dest.push(d)).status is PushStatus.DELIVERED
    assert asyncio.run(dest.push(delivery(signed, delivery_id=d.delivery_id, attempt=2))).delivered
    table = dest.schema.table_for(penalty_item().kind)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    assert sorted(r["ITEM_ID"] for r in rows) == ["it-1", "it-2"]
    assert {r["CZBS"] for r in rows} == {"I"} and {r["BATCH_ID"] for r in rows} == {"bl-test-0000001"}
    assert rows[0]["CF_WSH"] == "绵应急罚〔2025〕7号"


def test_exchange_db_feedback_becomes_signed_receipt_with_item_outcomes(exchange, gateway_key, gateway_keyring):
    dest, engine, layout = exchange
    signed = signed_bulletin(gateway_key, [penalty_item("it-ok"), penalty_item("it-bad"),
                                           penalty_item("it-uscc", subject="911234567890123450")])
    d = delivery(signed)
    asyncio.run(dest.push(d))
    assert asyncio.run(dest.query_receipt(d.delivery_id, d.bulletin_id)) is None  # no verdicts yet
    counts = process(engine, layout, Faults(reject={"it-bad"}, duplicate=True))
    assert counts == {"read": 3, "accepted": 1, "rejected": 2}
    assert process(engine, layout)["read"] == 0  # each row is read once
    receipt = asyncio.run(dest.query_receipt(d.delivery_id, d.bulletin_id))
    verified = verify_for_delivery(receipt, _trust(gateway_keyring), signed, delivery_id=d.delivery_id,
                                   bulletin_id=d.bulletin_id)
    outcomes = {o.item_id: (str(o.status), o.code) for o in verified.outcomes}
    assert outcomes == {"it-ok": ("accepted", None), "it-bad": ("rejected", "E_TEST"),
                        "it-uscc": ("rejected", "E_USCC")}


def test_exchange_db_locked_table_is_a_retryable_timeout(exchange, gateway_key):
    dest, engine, layout = exchange
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite locks the whole file: covered by the busy timeout on the other backends")
    import threading

    holder = threading.Thread(target=process, args=(engine, layout, Faults(lock=3)))
    holder.start()
    try:
        import time
        time.sleep(0.5)
        result = asyncio.run(dest.push(delivery(signed_bulletin(gateway_key))))
    finally:
        holder.join()
    assert result.status is PushStatus.TIMEOUT and result.status.retryable, result


def test_gateway_simulate_exchange_db_writes_feedback(exchange, gateway_key, gateway_keyring):
    import subprocess
    import sys

    import yaml

    dest, engine, layout = exchange
    signed = signed_bulletin(gateway_key, [penalty_item("it-a"), penalty_item("it-b")])
    d = delivery(signed)
    asyncio.run(dest.push(d))
    layout_file = os.path.join(os.path.dirname(engine.url.database or "") if engine.dialect.name == "sqlite"
                               else os.environ.get("TMPDIR", "/tmp"), f"{layout.table_prefix}layout.yaml")
    with open(layout_file, "w", encoding="utf-8") as fh:
        yaml.safe_dump(layout.model_dump(), fh, allow_unicode=True)
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "gateway"), "simulate", "exchange-db", "--once",
                          "--url", engine.url.render_as_string(hide_password=False), "--layout-file", layout_file,
                          "--reject-items", "it-b", "--duplicate-feedback"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"read": 2, "accepted": 1, "rejected": 1' in out.stdout
    receipt = asyncio.run(dest.query_receipt(d.delivery_id, d.bulletin_id))
    verified = verify_for_delivery(receipt, _trust(gateway_keyring), signed, delivery_id=d.delivery_id,
                                   bulletin_id=d.bulletin_id)
    assert {o.item_id: str(o.status) for o in verified.outcomes} == {"it-a": "accepted", "it-b": "rejected"}
