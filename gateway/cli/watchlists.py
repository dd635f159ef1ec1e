"""`gateway watchlists list | changes ID | dispatch | digest`: partners' watchlists (贷后监控)
as an operator sees them, and their notices sent by hand (the workers dispatch every second
and the scheduler sends the daily digest; these are for rehearsals and catching up)."""

from __future__ import annotations

import argparse
import json

from gateway.cli import EXIT_OK
from gateway.cli._common import add_config_option, audited, services_from


def _operator(args: argparse.Namespace) -> object:
    from gateway.access.keys import SECTOR_SCOPES, Principal
    from gateway.cli._common import actor_of

    return Principal(key_id=actor_of(args), kind="development", partner_id=None, organisation=None, name="operator",
                     sector="operator", agency_code=None, scopes=SECTOR_SCOPES["operator"])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("watchlists", help="partners' watchlists: list, their changes, dispatch notices")
    sub = parser.add_subparsers(dest="watchlists_command", metavar="SUBCOMMAND", required=True)
    ls = sub.add_parser("list", help="every partner's watchlists with their subject counts")
    add_config_option(ls)
    ls.set_defaults(func=_list)
    ch = sub.add_parser("changes", help="a watchlist's changes after a cursor (JSON lines)")
    ch.add_argument("watchlist")
    ch.add_argument("--since", type=int, default=0)
    ch.add_argument("--limit", type=int, default=100)
    add_config_option(ch)
    ch.set_defaults(func=_changes)
    for name, help_text in (("dispatch", "number planned changes and send the webhook lists' notices now"),
                            ("digest", "send every digest list its bulletin of changes now")):
        p = sub.add_parser(name, help=help_text)
        add_config_option(p)
        audited(p, f"watchlists {name}")
        p.set_defaults(func=_send, kind=name)


def _list(args: argparse.Namespace) -> int:
    svc = services_from(args)
    rows = svc.watchlists.list(_operator(args))
    print(f"{'watchlist':<20} {'sector':<10} {'mode':<8} {'subjects':>8}  destination / name")
    for w in rows:
        print(f"{w['id']:<20} {w['sector']:<10} {w['mode']:<8} {w['subjects']:>8}  {w['destination'] or '-'} / {w['name']}")
    print(f"{len(rows)} watchlist(s)")
    return EXIT_OK


def _changes(args: argparse.Namespace) -> int:
    page = services_from(args).watchlists.changes(_operator(args), args.watchlist, since=args.since, limit=args.limit)
    for change in page["changes"]:
        print(json.dumps(change, ensure_ascii=False, sort_keys=True))
    print(f"next: {page['next']}" + (" (more)" if page["more"] else ""))
    return EXIT_OK


def _send(args: argparse.Namespace) -> int:
    dispatcher = services_from(args).watch_dispatcher
    sent = dispatcher.dispatch() if args.kind == "dispatch" else dispatcher.digest()
    print(f"{sent.numbered} change(s) numbered; {sent.changes} sent in {len(sent.bulletins)} bulletin(s)"
          + (": " + ", ".join(sent.bulletins) if sent.bulletins else ""))
    return EXIT_OK
