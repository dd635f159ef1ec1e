"""Delivery fixtures: signed bulletins in the outbox, a recording destination (a real HTTP
server in a subprocess), a registry pointing at it, and worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from delivery_helpers import RecordingServer  # noqa: E402


@pytest.fixture(autouse=True)
def _clock_at_real_time(clock):
    """Freeze at the real present: the dev keyring's certificates are issued now, and receipts
    are verified at the clock's time."""
    import datetime as dt

    clock.set(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def keys_dir(settings):
    from gateway.signing.keys import ensure_dev_keyring

    ensure_dev_keyring(settings.keys_dir)
    return settings.keys_dir


@pytest.fixture
def recording_server(tmp_path, keys_dir):
    server = RecordingServer.start(tmp_path / "dest", keys_dir)
    yield server
    server.stop()


@pytest.fixture
def pg_only(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers, there is no concurrent claim to prove")
    return db


__all__ = ["os", "subprocess", "time"]
