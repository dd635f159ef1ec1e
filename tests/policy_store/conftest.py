"""Policy-store fixtures: the policy service installed into the wired services
(builders and shortcuts are in `policy_store_helpers`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def policy(services):
    """The policy service of the wired services."""
    return services.policy


@pytest.fixture
def client(client, services):
    """The shared client, sending an operator key now that partner keys are enforced; valid for
    ten years, as these tests move the clock past entries' periods."""
    from gateway.access.testing import headers_for, issue

    client.headers.update(headers_for(issue(services, "operator", days=3650)))
    return client
