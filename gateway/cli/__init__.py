"""The `gateway` command.

Each module in this package adds its own sub-commands through `register(subparsers)`, so a
capability brings its CLI with it and no central list has to be edited. Packages outside the
core (the destination simulators, the demo) add theirs through the `gateway.commands` entry
point group: the gateway imports no adapter by name.

Exit codes (documented in docs/operator-guide.md):
  0 success · 1 the command ran and found something wrong (invalid code, failed verification)
  2 usage or configuration error · 3 a required service (database, key) was unavailable
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points

EXIT_OK, EXIT_FOUND_PROBLEMS, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="Work-safety credit exchange gateway.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 usage/configuration error, 3 service unavailable.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    for ep in sorted(entry_points(group="gateway.commands"), key=lambda e: e.name):
        ep.load()(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # connexion 3 imports starlette.testclient, which warns about httpx on every command; the
    # gateway never uses that client outside the tests (docs/notes.md)
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient` is deprecated")
    from pydantic import ValidationError

    from gateway.cli._common import run_audited
    from gateway.config import ConfigError
    from gateway.errors import GatewayError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_audited(args)  # operator actions are recorded in the audit log
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:  # settings built from flags
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GatewayError as exc:  # a use case refused: its detail, one line
        print(f"gateway {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
