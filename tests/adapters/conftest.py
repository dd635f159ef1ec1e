"""Adapter fixtures: the gateway's signing key, simulators on loopback, bulletins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from adapters._sim.faults import FaultState  # noqa: E402
from adapters._sim.launch import SimulatorOptions, build  # noqa: E402
from gateway.signing.dsig import Trust  # noqa: E402
from gateway.signing.keys import ensure_dev_keyring  # noqa: E402


@pytest.fixture(scope="session")
def gateway_keyring(tmp_path_factory):
    return ensure_dev_keyring(tmp_path_factory.mktemp("gateway-keys"))


@pytest.fixture(scope="session")
def gateway_key(gateway_keyring):
    return gateway_keyring.active


@pytest.fixture(scope="session")
def gateway_trust(gateway_keyring):
    return Trust("gateway", tuple(k.certificate for k in gateway_keyring))


@pytest.fixture(scope="session")
def sim_keys(tmp_path_factory):
    """One receipt key per simulator kind for the session (RSA generation is slow)."""
    base = tmp_path_factory.mktemp("sim-keys")
    return {kind: base / kind for kind in ("credit-china", "enterprise-publicity", "bureau")}


@pytest.fixture
def simulator(tmp_path, gateway_trust, sim_keys):
    """start(kind, **options) → (Simulator, ServerThread); everything stopped after the test."""
    running = []

    def start(kind: str, *, faults: FaultState | None = None, data_dir: Path | None = None, **kw):
        opts = SimulatorOptions(kind, data_dir=data_dir or tmp_path / kind, trust=kw.pop("trust", gateway_trust),
                                keys_dir=sim_keys[kind], faults=faults or FaultState(seed=1), **kw)
        sim = build(opts)
        server = sim.start()
        running.append((sim, server))
        return sim, server

    yield start
    for sim, server in running:
        server.stop()
        sim.receiver.store.close()


@pytest.fixture(scope="session")
def platform_key(sim_keys):
    """A destination's receipt key (as a real platform would hold), for respx answers."""
    from adapters._sim.receiver import simulator_key

    return simulator_key(sim_keys["credit-china"], "platform")


@pytest.fixture(scope="session")
def platform_trust(platform_key):
    return Trust.for_keys("platform", [platform_key])
