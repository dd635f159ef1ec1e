"""Shared helpers for the benchmarks: database selection and printing."""

from __future__ import annotations

import os
import tempfile
import uuid
from urllib.parse import quote

from sqlalchemy import create_engine, text

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sqlite_url() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='gw-bench-')}/bench.db"


def postgres_url() -> tuple[str, callable] | None:
    """A fresh schema on the local PostgreSQL (or GATEWAY_BENCH_PG_URL); None when unreachable."""
    base = os.environ.get("GATEWAY_BENCH_PG_URL", PG_DEFAULT)
    schema = f"gw_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - report and go on with SQLite only
        print(f"(PostgreSQL not reachable: {type(exc).__name__}; skipped)")
        return None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}?options={quote(f'-csearch_path={schema}')}", drop
