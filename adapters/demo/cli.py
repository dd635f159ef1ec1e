"""`gateway demo` (registered through the `gateway.commands` entry point): the gateway with its
destinations simulated on loopback and the records in `examples/`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser(
        "demo", help="run the end-to-end demonstration: simulators on loopback, examples/ imported, "
        "signed bulletins delivered, receipts recorded (fresh database under var/demo/)")
    parser.add_argument("--var-dir", type=Path, help="where the demo keeps its database and simulators (var/demo)")
    parser.add_argument("--keys-dir", type=Path, help="the gateway signing keyring (default GATEWAY_KEYS_DIR)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the queue to drain")
    parser.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    import logging

    from adapters.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_demo(var_dir=args.var_dir, keys_dir=args.keys_dir, timeout=args.timeout)
