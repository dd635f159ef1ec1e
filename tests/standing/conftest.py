"""Fixtures for the standing tests: the gateway built with destinations across sectors (the
local recorder, in-process), an operator client and partner clients per sector. Every client
waits after each request until the change feed has caught up (`tests/conftest.settling`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def destinations(settings, tmp_path):
    from standing_helpers import LAYOUT

    from gateway.delivery.destinations import DestinationRegistry, parse_destinations

    data = {"destinations": {name: {"adapter": "adapters.local:factory",
                                    "options": {"record_file": str(tmp_path / f"{name}.jsonl")},
                                    "subscription": spec, "batch": {"max_items": 500, "max_age_seconds": 3600},
                                    "schedule": "1m"}
                             for name, spec in LAYOUT.items()}}
    return DestinationRegistry(parse_destinations(data, "test"), keys_dir=settings.keys_dir, source="test")


@pytest.fixture
def gw(services, agencies):
    return services


@pytest.fixture
def operator(client, gw):
    return client


@pytest.fixture
def partner(gw):
    """partner(sector) -> a client holding a fresh key of that sector."""
    from gateway.access.testing import headers_for, issue
    from gateway.app import create_app
    from tests.conftest import settling

    app = create_app(gw)
    opened = []

    def make(sector: str):
        c = app.test_client(headers=headers_for(issue(gw, sector, days=3650)))
        c.__enter__()
        opened.append(c)
        return settling(c, gw)

    yield make
    for c in opened:
        c.__exit__(None, None, None)
