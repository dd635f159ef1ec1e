"""Leadership: one scheduler leads among many processes.

On PostgreSQL, `pg_try_advisory_lock(<gateway>, hashtext(current_schema()))` on a dedicated
connection outside the pool (named `gateway-scheduler <host> pid=<pid>` in pg_stat_activity):
a session lock dies with its connection, so when the leader dies (even kill -9) a follower,
retrying every few seconds, takes over. TCP keepalives bound how long a partitioned leader
keeps it. On SQLite: an exclusive `flock` on `<database>.scheduler.lock` (one machine).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger("gateway.scheduler")

LOCK_NAMESPACE = 0x47570001  # first key of the advisory lock: "GW", scheduler


class PostgresLeadership:
    """`pg_try_advisory_lock` on a dedicated connection (not from the pool)."""

    def __init__(self, url: str, runner: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": f"gateway-scheduler {runner.replace(':', ' pid=')}"[:63],
                "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                "connect_timeout": 5,
            },
        )
        self.conn: Any = None

    def _sql(self, statement: str) -> Any:
        from sqlalchemy import text

        if self.conn is None:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn.execute(text(statement), {"ns": LOCK_NAMESPACE}).scalar()

    def acquire(self) -> bool:
        try:
            return bool(self._sql("SELECT pg_try_advisory_lock(:ns, hashtext(current_schema()))"))
        except Exception:  # noqa: BLE001 - the database is away: not leading, try again later
            log.warning("scheduler: cannot reach PostgreSQL for the leader lock", exc_info=True)
            self._drop()
            return False

    def held(self) -> bool:
        try:
            return bool(
                self._sql(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                    " AND classid = (:ns)::oid AND objsubid = 2 AND granted"
                )
            )
        except Exception:  # noqa: BLE001 - connection lost: so is the lock
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # it may be dead already
                self.conn.close()
            self.conn = None

    def release(self) -> None:
        self._drop()  # closing the session releases its advisory locks
        self.engine.dispose()


class FileLeadership:
    """SQLite: an exclusive flock beside the database file (one machine, one scheduler)."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database or ":memory:"
        self.path = Path(database + ".scheduler.lock") if database != ":memory:" else None
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.path is None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.path is None or self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def leadership_for(db: Any, runner: str) -> PostgresLeadership | FileLeadership:
    return FileLeadership(db.url) if db.is_sqlite else PostgresLeadership(db.url, runner)


NO_LEADER = object()
_HOLDER = (
    "SELECT a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.classid = (:ns)::oid AND l.objsubid = 2 AND l.granted"
    " AND l.objid = ((hashtext(current_schema())::bigint + 4294967296) % 4294967296)::oid"
)


def leader_holder(db: Any) -> Any:
    """PostgreSQL: the application name of the connection holding the leader lock (None when it
    has none), or NO_LEADER when nobody holds it."""
    from sqlalchemy import text

    with db.read() as conn:
        row = conn.execute(text(_HOLDER), {"ns": LOCK_NAMESPACE}).first()
    return NO_LEADER if row is None else row[0]
