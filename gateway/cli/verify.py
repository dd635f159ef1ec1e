"""`gateway verify FILE`: check any signed document the gateway issues or receives (a
bulletin, a receipt, an eligibility report, an evidence zip) against pinned certificates.
Exit 0: verified; 1: not verified (the reason is printed); 2: usage (unreadable file or
certificate). `gateway bulletin verify` is the same command.

Pinned certificates: `--cert`/`--ca` for what the gateway signs (default: the certificates
in the gateway's keys_dir); `--receipt-cert` for receipts (default for a lone receipt:
`--cert`; else the pinned trust of the destination the receipt names, from the
destinations file). Certificates inside the file (KeyInfo, an evidence zip's
certificates/) are never trusted because the file carries them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)
    parser.add_argument("--cert", type=Path, action="append", default=[],
                        help="pinned signer certificate (PEM) of the gateway; default: the certificates in keys_dir")
    parser.add_argument("--ca", type=Path, action="append", default=[], help="CA anchor (PEM) instead of a pin")
    parser.add_argument("--receipt-cert", type=Path, action="append", default=[],
                        help="pinned certificate (PEM) of the destination that signed the receipts")
    parser.add_argument("--bulletin", type=Path, help="for a lone receipt: the bulletin it must acknowledge")
    parser.add_argument("--at", default=None, help="verify as of this time (ISO 8601), e.g. for old evidence")
    parser.set_defaults(func=verify_command)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="verify a signed bulletin, receipt, eligibility report or evidence zip (exit 0 ok, 1 not)")
    add_verify_arguments(parser)


def _gateway_trust(args: argparse.Namespace):
    from gateway.signing.dsig import Trust

    pinned = [p.read_bytes() for p in args.cert]
    anchors = [p.read_bytes() for p in args.ca]
    if not pinned and not anchors:
        from gateway.config import get_settings

        keys_dir = get_settings().keys_dir
        pinned = [p.read_bytes() for p in sorted(Path(keys_dir).glob("*.cert.pem"))]
        if not pinned:
            return None
    return Trust.from_pem("gateway", pinned=pinned, anchors=anchors)


def _receipt_trust(args: argparse.Namespace, lone_receipt: bool):
    from gateway.signing.dsig import Trust

    if args.receipt_cert:
        fixed = Trust.from_pem("receipts", pinned=[p.read_bytes() for p in args.receipt_cert])
        return lambda receiver: fixed
    if lone_receipt and (args.cert or args.ca):
        given = Trust.from_pem("receipts", pinned=[p.read_bytes() for p in args.cert],
                               anchors=[p.read_bytes() for p in args.ca])
        return lambda receiver: given

    def from_registry(receiver: str | None):
        from gateway.config import ConfigError, get_settings
        from gateway.delivery.destinations import load_destinations

        try:
            registry = load_destinations(keys_dir=get_settings().keys_dir)
            return registry.trust(receiver) if receiver in registry else None
        except ConfigError:
            return None

    return from_registry


def _at(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def verify_command(args: argparse.Namespace) -> int:
    from gateway.signing.documents import NotVerified, kind_of, verify_document

    try:
        data = args.file.read_bytes()
        bulletin = args.bulletin.read_bytes() if args.bulletin else None
        at = _at(args.at)
        try:
            kind = kind_of(data)
        except NotVerified as exc:
            print(f"INVALID: {exc}")
            return EXIT_FOUND_PROBLEMS
        lone_receipt = kind == "receipt"
        gateway_trust = None if lone_receipt and not args.receipt_cert and bulletin is None else _gateway_trust(args)
        receipt_trust = _receipt_trust(args, lone_receipt)
    except (OSError, ValueError) as exc:
        print(f"gateway verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = verify_document(data, gateway_trust=gateway_trust, receipt_trust=receipt_trust, now=at,
                                 bulletin=bulletin)
    except NotVerified as exc:
        print(f"INVALID: {exc}")
        return EXIT_FOUND_PROBLEMS
    print(f"OK ({result.kind})")
    for line in result.lines:
        print(line)
    return EXIT_OK
