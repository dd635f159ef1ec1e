"""`gateway publication push|quarantined|retry`: what goes out to the destinations.

    gateway publication push [DESTINATION] [--force]   make the bulletins that are due now
    gateway publication quarantined                     items that cannot be put in a bulletin
    gateway publication retry ITEM_ID... | --all        put quarantined items back
"""

from __future__ import annotations

import argparse
import sys

from gateway.cli import EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, audited, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("publication", help="publication items and push cycles")
    sub = parser.add_subparsers(dest="publication_command", required=True)
    push = sub.add_parser("push", help="batch pending items into signed bulletins now")
    push.add_argument("destination", nargs="?", help="one destination (default: every one)")
    push.add_argument("--force", action="store_true", help="do not wait for the batch size or age")
    add_config_option(push)
    audited(push, "publication push")
    push.set_defaults(func=_push)
    q = sub.add_parser("quarantined", help="items set aside because they cannot be published, with why")
    q.add_argument("--limit", type=int, default=100)
    add_config_option(q)
    q.set_defaults(func=_quarantined)
    rt = sub.add_parser("retry", help="put quarantined items back (after fixing their record)")
    rt.add_argument("items", nargs="*", metavar="ITEM_ID")
    rt.add_argument("--all", action="store_true")
    add_config_option(rt)
    audited(rt, "publication retry")
    rt.set_defaults(func=_retry)


def _push(args: argparse.Namespace) -> int:
    svc = services_from(args)
    names = [args.destination] if args.destination else svc.destinations.names()
    for name in names:
        made = svc.publication.push_cycle(name, force=args.force)
        print(f"{name}: {len(made)} bulletin(s)" + (f" {', '.join(made)}" if made else ""))
    return EXIT_OK


def _quarantined(args: argparse.Namespace) -> int:
    svc = services_from(args)
    for r in svc.publication.quarantined(args.limit):
        print(f"{r['item_id']}\t{r['destination']}\t{r['kind']}\t{r['subject']}\t{r['record_uid'] or '-'}\t{r['error']}")
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    if bool(args.all) == bool(args.items):
        print("gateway publication retry: give --all or one or more item ids", file=sys.stderr)
        return EXIT_USAGE
    svc = services_from(args)
    n = svc.publication.release(None if args.all else args.items)
    print(f"{n} item(s) back to pending")
    return EXIT_OK
