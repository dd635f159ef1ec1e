"""Fixtures for publication: a destination layout across the levels and sectors of docs/policy.md §9,
the development keyring, and services wired with both."""

from __future__ import annotations

import pytest

from gateway.delivery.destinations import DestinationRegistry, parse_destinations
from gateway.signing.keys import ensure_dev_keyring

ADAPTER = "adapters.local:factory"
REPORT_TO = "sichuan-agency"

# Sichuan (51) ⊃ Mianyang (5107) ⊃ Fucheng district (510703), plus receivers by sector.
LAYOUT = {
    "national-platform": {"sector": "platform", "levels": ["national"], "schedule": "0 2 * * *"},
    "sichuan-platform": {"sector": "platform", "levels": ["provincial"], "regions": ["510000"]},
    "mianyang-platform": {"sector": "platform", "levels": ["city"], "regions": ["510700"], "schedule": "0 * * * *"},
    "fucheng-platform": {"sector": "platform", "levels": ["district"], "regions": ["510703"]},
    "mianyang-land": {"sector": "land", "item_kinds": ["list"], "regions": ["510700"]},
    "mianyang-bank": {"sector": "finance", "item_kinds": ["list", "penalty"], "regions": ["51"]},
    "sichuan-agency": {"sector": "agency", "regions": ["510000"]},
}


def registry(layout: dict | None = None, *, max_items: int = 500, max_age_seconds: float = 3600,
             report_to: str | None = REPORT_TO) -> DestinationRegistry:
    data = {"destinations": {}}
    for name, spec in (layout or LAYOUT).items():
        spec = dict(spec)
        schedule = spec.pop("schedule", None)
        data["destinations"][name] = {
            "adapter": ADAPTER,
            "subscription": spec,
            "batch": {"max_items": max_items, "max_age_seconds": max_age_seconds},
            **({"schedule": schedule} if schedule else {}),
        }
    reg = DestinationRegistry(parse_destinations(data, "test"), source="test")
    reg.report_to = report_to if report_to in reg else None
    return reg


@pytest.fixture
def keyring(tmp_path):
    return ensure_dev_keyring(tmp_path / "keys")


@pytest.fixture
def destinations():
    return registry()


@pytest.fixture
def pub(services, agencies):
    """Services with the test destinations, the dev keyring and a report_to."""
    return services


def publish_entries(services, actor: str = "operator:test") -> list[str]:
    """Take every proposed list entry through notice, confirmation and publication (docs/policy.md §6),
    then let the change feed decide what follows."""
    uids = [e["id"] for e in services.policy.entries(limit=1000)[0] if e["state"] == "proposed"]
    for uid in uids:
        for action in ("notify", "confirm", "publish"):
            services.policy.transition(uid, action, actor, argument="waived" if action == "confirm" else None)
    services.consumer.drain()
    return uids
