"""Build a simulator of any kind from plain options (the CLI, `gateway demo` and tests).

    sim = build(SimulatorOptions("credit-china", data_dir=Path("var/sim/cc"), trust=trust))
    server = sim.start()                      # a ServerThread on a free loopback port
    sim.endpoint(server.url)                  # what the adapter's options.url must say
    sim.certificate                           # what the destination's trust must pin
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters._sim.faults import FaultState
from adapters._sim.http import ServerThread
from adapters._sim.receiver import Receiver, certificate_file, simulator_key
from adapters._sim.store import AppliedStore
from gateway.signing.dsig import Trust

RECEIVER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")  # receipt.xsd's Receiver
KINDS = ("credit-china", "enterprise-publicity", "bureau")
_DEFAULT_NAMES = {"credit-china": "credit-china-sim", "enterprise-publicity": "publicity-sim", "bureau": "bureau-sim"}


@dataclass
class SimulatorOptions:
    kind: str
    data_dir: Path
    trust: Trust
    name: str | None = None
    keys_dir: Path | None = None
    faults: FaultState = field(default_factory=FaultState)
    async_receipts: bool = False
    receipt_delay: float = 0.5
    callback_url: str | None = None
    callback_token: str | None = None  # the gateway API key (scope receipts:write) for callbacks
    app_secrets: dict[str, str] | None = None  # credit-china
    sectors: tuple[str, ...] = ()  # bureau
    hmac_secret: str | None = None  # bureau
    require_wsse: bool = False  # enterprise-publicity


@dataclass
class Simulator:
    kind: str
    name: str
    app: Any
    receiver: Receiver
    keys_dir: Path

    @property
    def certificate(self) -> Path:
        return certificate_file(self.keys_dir)

    def endpoint(self, server_url: str) -> str:
        if self.kind == "credit-china":
            from adapters.credit_china.simulator import BASE_PATH

            return server_url + BASE_PATH
        if self.kind == "bureau":
            from adapters.bureaus.simulator import PUSH_PATH

            return server_url + PUSH_PATH
        from adapters.enterprise_publicity.simulator import SERVICE_PATH

        return server_url + SERVICE_PATH

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
        return ServerThread(self.app, host, port).start()


def build(opts: SimulatorOptions) -> Simulator:
    if opts.kind not in KINDS:
        raise ValueError(f"unknown simulator kind {opts.kind!r}; one of {', '.join(KINDS)}")
    name = opts.name or _DEFAULT_NAMES[opts.kind]
    if not RECEIVER_ID.fullmatch(name):
        raise ValueError(f"simulator name {name!r}: receipts name their receiver with letters, digits and ._:- only")
    keys_dir = opts.keys_dir or opts.data_dir / "keys"
    store = AppliedStore(opts.data_dir / "applied.sqlite")
    item_check = None
    if opts.kind == "credit-china":
        from adapters.credit_china.simulator import check_item

        item_check = check_item
    elif opts.kind == "bureau" and opts.sectors:
        from adapters.bureaus.simulator import sector_check

        item_check = sector_check(opts.sectors)
    receiver = Receiver(name, simulator_key(keys_dir, name), opts.trust, store, opts.faults,
                        async_receipts=opts.async_receipts, receipt_delay=opts.receipt_delay, item_check=item_check)
    if opts.kind == "credit-china":
        from adapters.credit_china import simulator as cc

        secrets = opts.app_secrets or {cc.DEFAULT_APP_KEY: cc.DEFAULT_APP_SECRET}
        app = cc.build_app(receiver, opts.faults, app_secrets=secrets, keys_dir=keys_dir,
                           callback_url=opts.callback_url, callback_token=opts.callback_token)
    elif opts.kind == "bureau":
        from adapters.bureaus import simulator as bu

        app = bu.build_app(receiver, opts.faults, keys_dir=keys_dir, hmac_secret=opts.hmac_secret,
                           callback_url=opts.callback_url, callback_token=opts.callback_token)
    else:
        from adapters.enterprise_publicity import simulator as ep

        app = ep.build_app(receiver, opts.faults, keys_dir=keys_dir, require_wsse=opts.require_wsse)
    return Simulator(opts.kind, name, app, receiver, keys_dir)
