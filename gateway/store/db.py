"""Database engines for SQLite (embedded) and PostgreSQL (scale-out), one code path.

SQLite: WAL journal, foreign keys on, a busy timeout, and `BEGIN IMMEDIATE` for writers so a
writer takes the write lock when its transaction starts rather than failing mid-way with
"database is locked" (the recipe from SQLAlchemy's pysqlite documentation: disable the
driver's own BEGIN and emit ours in the `begin` event).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from gateway.store.types import serialize_json

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """An engine plus the two ways to use it: `read()` and `write()` transactions."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # keep as many connections as threads use at once: a connection opened per checkout
            # beyond the pool would run the PRAGMAs below every time
            self.engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                                        pool_size=pool_size * 4, max_overflow=pool_size * 4,
                                        json_serializer=serialize_json)
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                json_serializer=serialize_json,
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self, *, wait: bool = True) -> Iterator[Connection]:
        """A writing transaction: committed on success, rolled back on any exception. On SQLite,
        `wait=False` fails at once ("database is locked") when another writer holds the lock."""
        with self.engine.connect() as conn:
            if self.is_sqlite and not wait:  # on the driver's connection: no transaction begins
                conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            try:
                conn = conn.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else conn
                with conn.begin():
                    yield conn
            finally:
                if self.is_sqlite and not wait:
                    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def point_read(self) -> Iterator[Connection]:
        """A connection for one statement that needs no transaction around it (a lookup by key):
        no BEGIN/COMMIT, which on PostgreSQL are two network round trips of their own."""
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT", sqlite_begin=None)

    def ping(self) -> None:
        """Reach the database (raises when it cannot)."""
        with self.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: a point read, one statement, no transaction (point_read)
            conn.exec_driver_sql(f"BEGIN {mode}")
