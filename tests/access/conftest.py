"""Fixtures for the access tests: the capability installed, a signing key, clients per sector."""

from __future__ import annotations

import pytest

from gateway.access import keys
from gateway.access.settings import load_access_settings
from gateway.access.testing import headers_for, issue
from tests.conftest import settling

SECTORS = keys.SECTORS


@pytest.fixture
def access_settings():
    return load_access_settings(key_cache_seconds=0, trusted_proxies=["10.0.0.0/8"], rate_limits={})


@pytest.fixture
def keyring(settings):
    from gateway.signing.keys import ensure_dev_keyring

    return ensure_dev_keyring(settings.keys_dir)


@pytest.fixture
def access(services, agencies):
    """The wired services (access is part of every build), the key cache cleared."""
    keys.CACHE.clear()
    return services


@pytest.fixture
def app(access):
    from gateway.app import create_app

    return create_app(access)


@pytest.fixture
def anonymous(app, access):
    with app.test_client() as c:
        yield settling(c, access)


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
        return settling(client, access)

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def operator(authed):
    return authed("operator")
