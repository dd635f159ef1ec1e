"""Fixtures for the ops tests: access, observability and the console installed (what the
wiring in gateway.bootstrap will do), a signing key, an operator client."""

from __future__ import annotations

import pytest


@pytest.fixture
def wired(services, agencies):
    from gateway import console, observability
    from gateway.access import install as install_access
    from gateway.access import keys
    from gateway.access.settings import load_access_settings
    from gateway.signing.keys import ensure_dev_keyring

    install_access(services)
    observability.install(services)
    console.install(services)
    services.extras["keyring"] = ensure_dev_keyring(services.settings.keys_dir)
    services.extras["access_settings"] = load_access_settings(key_cache_seconds=0, rate_limits={})
    keys.CACHE.clear()
    return services


@pytest.fixture(autouse=True)
def scheduler_leader(services):
    """A scheduler leads (on PostgreSQL: one holds the advisory lock) as in a running deployment."""
    if services.db.dialect != "postgresql":
        yield None
        return
    from gateway.scheduler import PostgresLeadership

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

    with app.test_client(headers=headers_for(operator_key)) as c:
        yield c


@pytest.fixture
def anonymous(app):
    with app.test_client() as c:
        yield c
