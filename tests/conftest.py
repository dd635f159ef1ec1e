"""Shared fixtures: a migrated database per backend, a frozen clock, wired services, a client.

Backends: without GATEWAY_TEST_DATABASE_URL every database test runs on SQLite and its
PostgreSQL twin is reported as skipped; with it (as `.ci/run`'s second pass sets), the
database tests run on PostgreSQL, each session in a schema of its own. An unreachable
PostgreSQL named by that variable is an error, never a silent skip.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, inspect, text

from gateway.clock import FrozenClock
from gateway.config import load_settings
from gateway.store import migrate
from gateway.store.db import Database
from gateway.store.schema import metadata

PG_URL = os.environ.get("GATEWAY_TEST_DATABASE_URL")
BACKENDS = ["postgresql"] if PG_URL else ["sqlite", "postgresql"]


def _pg_url(base: str) -> str:
    return base if base.startswith("postgresql+psycopg") else base.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def _pg_schema(prefix: str):
    """A PostgreSQL schema of its own (dropped afterwards); yields the URL that uses it."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need GATEWAY_TEST_DATABASE_URL (set by .ci/run)")
    base = _pg_url(PG_URL)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # fails loudly when PostgreSQL is unreachable
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_schema_url():
    with _pg_schema("gw_test") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def unmigrated_db(request, tmp_path):
    """An empty database of its own, per test (migration tests start from an old revision)."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'unmigrated.db'}")
        yield db
        db.dispose()
        return
    with _pg_schema("gw_mig") as url:
        db = Database(url)
        yield db
        db.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_db(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gateway.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    db = Database(url)
    migrate.upgrade(db)
    yield db
    db.dispose()


def clean(db: Database) -> None:
    with db.engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def db(migrated_db):
    clean(migrated_db)
    return migrated_db


@pytest.fixture
def clock():
    return FrozenClock(dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC))


@pytest.fixture
def settings(db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys")


@pytest.fixture
def destinations(settings):
    """The destinations the services are built with (none; test packages override this)."""
    from gateway.delivery.destinations import DestinationRegistry

    return DestinationRegistry({}, keys_dir=settings.keys_dir, source="test")


@pytest.fixture
def access_settings():
    """The access settings the services are built with (test packages override this)."""
    from gateway.access.settings import load_access_settings

    return load_access_settings()


@pytest.fixture
def keyring():
    """The signing keyring the services are built with (None: generated on first use)."""
    return None


@pytest.fixture
def services(settings, db, clock, destinations, access_settings, keyring):
    from gateway.bootstrap import build

    return build(settings, db=db, clock=clock, destinations=destinations, access=access_settings, keyring=keyring)


def settling(client, services):
    """After every request, wait until the change feed has caught up (decide what is due, as
    the consumer thread of `gateway run` would a moment later): what a partner asking next sees."""
    original = client.request

    def request(*args, **kwargs):
        response = original(*args, **kwargs)
        services.consumer.drain()
        return response

    client.request = request
    return client


AGENCIES = [
    ("MY-AJJ", "绵阳市应急管理局", "510700", "city"),
    ("FC-AJJ", "绵阳市涪城区应急管理局", "510703", "district"),
    ("SC-YJT", "四川省应急管理厅", "510000", "provincial"),
]


@pytest.fixture
def agencies(services):
    from gateway.intake import repository as intake_repo

    with services.db.write() as conn:
        for code, name, region, level in AGENCIES:
            intake_repo.upsert_agency(conn, code=code, name=name, region=region, level=level, uscc=None,
                                      now=services.clock.now())
    return [a[0] for a in AGENCIES]


@pytest.fixture
def client(services, agencies):
    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app

    app = create_app(services)
    with app.test_client() as c:
        # an operator key (every scope), valid long enough for tests that move the clock
        c.headers.update(headers_for(issue(services, "operator", days=3650)))
        yield settling(c, services)


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """A command run in-process (`gateway worker`, `run`, the demo) calls `configure_logging`,
    which replaces the root handlers with one writing to the stderr of that moment (a test's
    captured stream): later tests would log into a closed file, and their own stderr would
    fill with "--- Logging error ---". Each test leaves the root logger as it found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
