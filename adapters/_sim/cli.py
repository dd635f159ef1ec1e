"""`gateway simulate credit-china|enterprise-publicity|bureau`: a destination simulator on loopback.

Operators rehearse against these: each verifies the bulletin signature (pinned to the
gateway's certificate) and schema, applies each delivery id once (remembered in
`<data-dir>/applied.sqlite` across restarts), and answers with receipts signed by its own
key (generated on first start in `--keys-dir`; pin `<keys-dir>/dev-signing.cert.pem` as the
destination's `trust:`). Faults are switched on by flags (see `--help`) or at run time with
`POST /_sim/faults`; `GET /_sim/stats` shows what arrived.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli import EXIT_USAGE


def register(subparsers) -> None:  # noqa: ANN001
    from adapters._sim import faults

    parser = subparsers.add_parser("simulate", help="run a destination simulator (credit-china, "
                                   "enterprise-publicity, bureau) on loopback for rehearsals",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("credit-china", "enterprise-publicity", "bureau", "exchange-db"))
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="listen port (0: a free one, printed)")
    parser.add_argument("--name", help="its receiver id in receipts (letters, digits, ._:-)")
    parser.add_argument("--data-dir", type=Path, help="where it keeps what it applied (default var/sim/<kind>-<port>)")
    parser.add_argument("--keys-dir", type=Path, help="its own receipt-signing key (default <data-dir>/keys)")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument("--trust-cert", type=Path, metavar="PEM", help="the gateway certificate(s) bulletins must carry")
    trust.add_argument("--gateway-keys-dir", type=Path, metavar="DIR",
                       help="pin the certificates of the gateway keyring here (default: GATEWAY_KEYS_DIR)")
    parser.add_argument("--async-receipts", action="store_true", help="answer 202; the receipt follows")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds until an async receipt is ready")
    parser.add_argument("--receipt-callback", metavar="URL",
                        help="POST async receipts here (the gateway's http://HOST:PORT/v1/receipts)")
    parser.add_argument("--receipt-callback-token", metavar="KEY",
                        help="the gateway API key (scope receipts:write) for --receipt-callback")
    cc = parser.add_argument_group("credit-china")
    cc.add_argument("--app-key", action="append", metavar="KEY=SECRET",
                    help="an accepted app key and its secret (repeatable; default demo-app=demo-secret-change-me)")
    bu = parser.add_argument_group("bureau")
    bu.add_argument("--sector", action="append", help="the sector(s) it acts for: items for others are rejected")
    bu.add_argument("--hmac-secret", help="accept webhook signatures with this shared secret "
                    "(key signatures by the pinned gateway certificate are always accepted)")
    ep = parser.add_argument_group("enterprise-publicity")
    ep.add_argument("--require-wsse", action="store_true", help="require a WS-Security signature by the gateway key")
    xdb = parser.add_argument_group("exchange-db (plays the platform reading the exchange database)")
    xdb.add_argument("--url", help="the exchange database (a SQLAlchemy URL)")
    xdb.add_argument("--layout-file", type=Path, help="table/column names (YAML, as the destination's layout)")
    xdb.add_argument("--once", action="store_true", help="one pass, print the counts, exit")
    xdb.add_argument("--interval", type=float, default=2.0, help="seconds between passes (default 2)")
    xdb.add_argument("--slow-seconds", type=float, default=0.0, help="a slow reader: hold each row this long")
    xdb.add_argument("--lock-seconds", type=float, default=0.0, help="lock the tables this long before each pass")
    xdb.add_argument("--duplicate-feedback", action="store_true", help="write every verdict row twice")
    faults.add_arguments(parser)
    parser.set_defaults(func=_simulate)


def _simulate_exchange_db(args: argparse.Namespace) -> int:
    import json
    import sys
    import time

    from adapters.exchange_db.adapter import engine_for
    from adapters.exchange_db.layout import Layout
    from adapters.exchange_db.simulator import Faults, process

    if not args.url:
        print("gateway simulate exchange-db: --url is required", file=sys.stderr)
        return EXIT_USAGE
    layout = Layout.from_options({"layout_file": args.layout_file} if args.layout_file else {})
    reject = {i for i in (args.reject_items or "").split(",") if i and not i.replace(".", "").isdigit()}
    fault = Faults(slow=args.slow_seconds, reject=reject, lock=args.lock_seconds, duplicate=args.duplicate_feedback)
    engine = engine_for(args.url)
    try:
        while True:
            print(json.dumps(process(engine, layout, fault)), flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    finally:
        engine.dispose()


def _simulate(args: argparse.Namespace) -> int:
    if args.kind == "exchange-db":
        return _simulate_exchange_db(args)
    from adapters._sim import faults
    from adapters._sim.http import serve_forever
    from adapters._sim.launch import SimulatorOptions, build
    from adapters._sim.receiver import gateway_trust
    from gateway.config import get_settings
    from gateway.paths import ROOT

    secrets = None
    if args.app_key:
        secrets = {}
        for entry in args.app_key:
            key, sep, secret = entry.partition("=")
            if not sep or not key or not secret:
                print(f"gateway simulate: --app-key {entry!r}: expected KEY=SECRET")
                return EXIT_USAGE
            secrets[key] = secret
    data_dir = args.data_dir or ROOT / "var" / "sim" / f"{args.kind}-{args.port or 'any'}"
    trust = gateway_trust(args.kind, trust_cert=args.trust_cert,
                          gateway_keys_dir=args.gateway_keys_dir or get_settings().keys_dir)
    sim = build(SimulatorOptions(
        args.kind, data_dir=data_dir, trust=trust, name=args.name, keys_dir=args.keys_dir,
        faults=faults.from_arguments(args), async_receipts=args.async_receipts, receipt_delay=args.receipt_delay,
        callback_url=args.receipt_callback, callback_token=args.receipt_callback_token, app_secrets=secrets, sectors=tuple(args.sector or ()),
        hmac_secret=args.hmac_secret, require_wsse=args.require_wsse,
    ))

    def announce(url: str) -> None:
        print(f"{args.kind} simulator {sim.name!r} on {sim.endpoint(url)}", flush=True)
        print(f"  receipts signed by {sim.certificate} (pin it as the destination's trust)", flush=True)
        print(f"  applied deliveries in {data_dir / 'applied.sqlite'}; stats at {url}/_sim/stats", flush=True)

    try:
        serve_forever(sim.app, args.host, args.port, announce)
    finally:
        sim.receiver.store.close()
    return 0
