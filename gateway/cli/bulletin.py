"""`gateway bulletin verify|show`: check and read signed bulletins offline (`verify` is
`gateway verify`, which checks any signed document)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bulletin", help="verify or show a signed bulletin")
    sub = parser.add_subparsers(dest="bulletin_command", metavar="BULLETIN_COMMAND", required=True)

    verify = sub.add_parser("verify", help="the same as `gateway verify` (any signed document; exit 0 valid, 1 not)")
    from gateway.cli.verify import add_verify_arguments

    add_verify_arguments(verify)

    show = sub.add_parser("show", help="print a bulletin's header and items (verifies when it can)")
    show.add_argument("file", type=Path)
    show.set_defaults(func=show_command)


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
