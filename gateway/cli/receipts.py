"""`gateway receipts refused|conflicts`: receipts that did not count, for operators."""

from __future__ import annotations

import argparse

from gateway.cli._common import add_config_option, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("receipts", help="receipts that did not count: refused, conflicts")
    sub = parser.add_subparsers(dest="receipts_command", required=True)
    ls = sub.add_parser("refused", help="refused receipts, latest first (the deliveries were left unchanged)")
    ls.add_argument("--delivery", help="only those claiming this delivery id")
    ls.add_argument("--reason", help="not_the_destination | unknown_delivery | unreadable | not_verified | mismatch")
    ls.add_argument("--limit", type=int, default=50)
    add_config_option(ls)
    ls.set_defaults(func=_refused)
    cf = sub.add_parser("conflicts", help="signed receipts contradicting the one that settled their delivery")
    cf.add_argument("--limit", type=int, default=50)
    add_config_option(cf)
    cf.set_defaults(func=_conflicts)


def _refused(args: argparse.Namespace) -> int:
    from gateway.delivery import refused_store as refused

    with services_from(args).db.read() as conn:
        rows = refused.refused(conn, limit=args.limit, delivery_id=args.delivery, reason=args.reason)
    for r in rows:
        who = r["actor"] or r["channel"]
        if r["organisation"]:
            who += f" ({r['organisation']})"
        print(f"{r['received_at'].isoformat()}\t{r['delivery_id'] or '-'}\t{r['destination'] or '-'}\t{who}\t"
              f"{r['reason']}\t{r['detail']}")
    return 0


def _conflicts(args: argparse.Namespace) -> int:
    from gateway.delivery import refused_store as refused

    with services_from(args).db.read() as conn:
        rows = refused.conflicts(conn, limit=args.limit)
    for r in rows:
        print(f"{r['received_at'].isoformat()}\t{r['delivery_id']}\t{r['destination']}\t{r['receipt_id'] or '-'}\t"
              f"kept, not applied (delivery {r['delivery_state']})")
    return 0
