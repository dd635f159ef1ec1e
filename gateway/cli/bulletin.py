"""`gateway bulletin verify|show`: check and read signed bulletins offline."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bulletin", help="verify or show a signed bulletin")
    sub = parser.add_subparsers(dest="bulletin_command", metavar="BULLETIN_COMMAND", required=True)

    verify = sub.add_parser("verify", help="verify a bulletin's signature (exit 0 valid, 1 not)")
    verify.add_argument("file", type=Path)
    verify.add_argument(
        "--cert", type=Path, action="append", default=[],
        help="pinned signer certificate (PEM); default: the certificates in the gateway's keys_dir",
    )
    verify.add_argument("--ca", type=Path, action="append", default=[], help="CA anchor (PEM) instead of a pin")
    verify.add_argument("--at", default=None, help="verify as of this time (ISO 8601), e.g. for old evidence")
    verify.set_defaults(func=verify_command)

    show = sub.add_parser("show", help="print a bulletin's header and items (verifies when it can)")
    show.add_argument("file", type=Path)
    show.set_defaults(func=show_command)


def _trust(args: argparse.Namespace):
    from gateway.signing.dsig import Trust

    pinned = [p.read_bytes() for p in args.cert]
    anchors = [p.read_bytes() for p in args.ca]
    if not pinned and not anchors:
        from gateway.config import get_settings

        keys_dir = get_settings().keys_dir
        pinned = [p.read_bytes() for p in sorted(Path(keys_dir).glob("*.cert.pem"))]
        if not pinned:
            raise FileNotFoundError(f"no --cert given and no certificates in {keys_dir}")
    return Trust.from_pem(str(args.file), pinned=pinned, anchors=anchors)


def verify_command(args: argparse.Namespace) -> int:
    from gateway.publication.bulletin import BulletinRejected, parse_bulletin

    try:
        trust = _trust(args)
        at = dt.datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else None
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        data = args.file.read_bytes()
    except (OSError, ValueError) as exc:
        print(f"gateway bulletin verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        verified = parse_bulletin(data, trust, now=at)
    except BulletinRejected as exc:
        print(f"INVALID: {exc}")
        return EXIT_FOUND_PROBLEMS
    print("OK")
    print(f"bulletin:  {verified.header.bulletin_id} (sequence {verified.header.sequence}, {verified.header.kind})")
    print(f"signer:    {verified.signer_subject}")
    print(f"key id:    {verified.key_id}")
    print(f"items:     {len(verified.items)}")
    return EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    from gateway import xmlsafe
    from gateway.publication.bulletin import read_header, read_items
    from gateway.signing.dsig import describe_signature

    try:
        root = xmlsafe.parse(args.file.read_bytes())
        header, items = read_header(root), read_items(root)
    except (OSError, ValueError, AttributeError, KeyError) as exc:
        print(f"gateway bulletin show: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    sig = describe_signature(root)
    print("(content shown as found, NOT verified: use `gateway bulletin verify`)")
    print(f"bulletin:    {header.bulletin_id}  sequence {header.sequence}  kind {header.kind}")
    print(f"issuer:      {header.issuer_uscc}  created {header.created.isoformat()}")
    print(f"profile:     {header.profile}  destination {header.destination}")
    if sig is None:
        print("signature:   none")
    else:
        print(f"signature:   key {sig.key_name}  {sig.subject}  {sig.signature_method}")
    print(f"items:       {len(items)}")
    for item in items:
        print(f"  {item.item_id}  {item.kind}  {item.subject}")
        for name, value in item.fields.items():
            print(f"      {name}: {value}")
    return EXIT_OK
