"""Fixtures for the ops tests: the wired services, a signing key, an operator client."""

from __future__ import annotations

import pytest


@pytest.fixture
def access_settings():
    from gateway.access.settings import load_access_settings

    return load_access_settings(key_cache_seconds=0, rate_limits={})


@pytest.fixture
def destinations(settings, tmp_path):
    """The default deployment's one destination: the local recorder (config/destinations.yaml)."""
    from gateway.delivery.destinations import DestinationRegistry, parse_destinations

    data = {"destinations": {"local": {"adapter": "adapters.local:factory", "receipt_timeout_seconds": 3600,
                                       "options": {"record_file": str(tmp_path / "local.jsonl")}}}}
    return DestinationRegistry(parse_destinations(data, "test"), keys_dir=settings.keys_dir, source="test")


@pytest.fixture
def keyring(settings):
    from gateway.signing.keys import ensure_dev_keyring

    return ensure_dev_keyring(settings.keys_dir)


@pytest.fixture
def wired(services, agencies):
    from gateway.access import keys

    keys.CACHE.clear()
    return services


@pytest.fixture(autouse=True)
def scheduler_leader(services):
    """A scheduler leads (on PostgreSQL: one holds the advisory lock) as in a running deployment."""
    if services.db.dialect != "postgresql":
        yield None
        return
    from gateway.scheduler.leadership import PostgresLeadership

    leadership = PostgresLeadership(services.db.url, "ops-test-scheduler")
    assert leadership.acquire()
    yield leadership
    leadership.release()


@pytest.fixture
def app(wired):
    from gateway.app import create_app

    return create_app(wired)


@pytest.fixture
def operator_key(wired):
    from gateway.access.testing import issue

    return issue(wired, "operator", days=3650)


@pytest.fixture
def operator(app, operator_key):
    from gateway.access.testing import headers_for
    from tests.conftest import settling

    with app.test_client(headers=headers_for(operator_key)) as c:
        yield settling(c, wired_services(app))


def wired_services(app):  # noqa: ANN001, ANN201
    from gateway.api.deps import services

    return services()


@pytest.fixture
def anonymous(app):
    with app.test_client() as c:
        yield c
