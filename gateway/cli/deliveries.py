"""`gateway deliveries list|show|requeue`: look at the outbox and put dead deliveries back."""

from __future__ import annotations

import argparse
import json

from gateway.cli._common import add_config_option, audited, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("deliveries", help="the delivery outbox: list, show, requeue")
    sub = parser.add_subparsers(dest="deliveries_command", required=True)
    ls = sub.add_parser("list", help="deliveries, newest first")
    ls.add_argument("--state")
    ls.add_argument("--destination")
    ls.add_argument("--bulletin")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--summary", action="store_true", help="counts by state instead")
    add_config_option(ls)
    ls.set_defaults(func=_list)
    show = sub.add_parser("show", help="one delivery: attempts, receipts, item outcomes (JSON)")
    show.add_argument("delivery_id")
    add_config_option(show)
    show.set_defaults(func=_show)
    rq = sub.add_parser("requeue", help="send a dead or rejected delivery again (attempts reset)")
    rq.add_argument("delivery_id", nargs="+")
    add_config_option(rq)
    audited(rq, "deliveries requeue")
    rq.set_defaults(func=_requeue)


def _list(args: argparse.Namespace) -> int:
    from gateway.delivery import outbox

    svc = services_from(args)
    with svc.db.read() as conn:
        if args.summary:
            for state, n in sorted(outbox.count_by_state(conn, args.destination).items()):
                print(f"{state}\t{n}")
            return 0
        rows = outbox.list_deliveries(conn, state=args.state, destination=args.destination, bulletin=args.bulletin,
                                      limit=args.limit)
    for r in rows:
        print(f"{r.delivery_id}\t{r.destination}\t{r.bulletin_id}\t{r.state}\tattempts={r.attempts}"
              + (f"\t{r.last_error}" if r.last_error else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    from gateway.api.deliveries import delivery_detail
    from gateway.delivery import outbox

    svc = services_from(args)
    with svc.db.read() as conn:
        row = outbox.get_delivery(conn, args.delivery_id)
        if row is None:
            print(f"gateway: no delivery {args.delivery_id}")
            return 1
        print(json.dumps(delivery_detail(conn, row), ensure_ascii=False, indent=2, default=str))
    return 0


def _requeue(args: argparse.Namespace) -> int:
    from gateway.delivery import outbox

    svc = services_from(args)
    failed = 0
    for delivery_id in args.delivery_id:
        with svc.db.write() as conn:
            row = outbox.get_delivery(conn, delivery_id)
            state = outbox.requeue(conn, delivery_id, svc.clock.now()) if row is not None else None
        if state is None:
            failed += 1
            print(f"{delivery_id}: not requeued ({'no such delivery' if row is None else row.state})")
        else:
            print(f"{delivery_id}: {row.state} -> {state}")
    return 1 if failed else 0
