"""Watchlist fixtures: the access fixtures (clients per sector), and a bank's webhook destination."""

from __future__ import annotations

import pytest

from gateway.access.testing import partner_uscc
from tests.access.conftest import access, access_settings, anonymous, app, authed, keyring, operator  # noqa: F401

BANK_DESTINATION = "bank-watch"


@pytest.fixture
def destinations(settings):
    """One bank receiver configured for the test finance partner, taking watch notices only."""
    from gateway.delivery.destinations import DestinationRegistry, parse_destinations

    configs = parse_destinations({"destinations": {BANK_DESTINATION: {
        "adapter": "adapters.bureaus:factory",
        "options": {"url": "http://127.0.0.1:9/webhook", "secret": "s3cret", "partner": partner_uscc("finance", None)},
        "subscription": {"sector": "finance", "item_kinds": ["watch"]},
    }}}, "test")
    return DestinationRegistry(configs, keys_dir=settings.keys_dir, source="test")
