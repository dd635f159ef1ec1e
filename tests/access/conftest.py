"""Fixtures for the access tests: the capability installed, a signing key, clients per sector."""

from __future__ import annotations

import pytest

from gateway.access import install, keys
from gateway.access.settings import load_access_settings
from gateway.access.testing import headers_for, issue

SECTORS = keys.SECTORS


@pytest.fixture
def access(services, agencies):
    """Services with the access capability installed (what gateway.bootstrap.build will do)."""
    from gateway.signing.keys import ensure_dev_keyring

    install(services)
    services.extras["keyring"] = ensure_dev_keyring(services.settings.keys_dir)
    services.extras["access_settings"] = load_access_settings(
        key_cache_seconds=0, trusted_proxies=["10.0.0.0/8"], rate_limits={}, list_source="decide"
    )
    keys.CACHE.clear()
    return services


@pytest.fixture
def app(access):
    from gateway.app import create_app

    return create_app(access)


@pytest.fixture
def anonymous(app):
    with app.test_client() as c:
        yield c


@pytest.fixture
def authed(app, access):
    """authed(sector) -> a test client holding a fresh key of that sector (agency: MY-AJJ)."""
    opened = []

    def make(sector: str, **kw):
        if sector == "agency":
            kw.setdefault("agency", "MY-AJJ")
        issued = issue(access, sector, **kw)
        client = app.test_client(headers=headers_for(issued))
        client.__enter__()
        client.key = issued
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def operator(authed):
    return authed("operator")
