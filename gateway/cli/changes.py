"""`gateway changes list|retry|drain`: the change feed (subjects whose standing is to be decided).

    gateway changes list [--quarantined]      pending and quarantined subjects, with their errors
    gateway changes retry USCC... | --all     put quarantined subjects back (after fixing the cause)
    gateway changes drain                     decide everything due now, in this process
"""

from __future__ import annotations

import argparse
import sys

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, audited, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("changes", help="the change feed: pending and quarantined subjects")
    sub = parser.add_subparsers(dest="changes_command", required=True)
    ls = sub.add_parser("list", help="pending and quarantined subjects, oldest first")
    ls.add_argument("--quarantined", action="store_true", help="only those set aside after repeated failures")
    ls.add_argument("--limit", type=int, default=100)
    add_config_option(ls)
    ls.set_defaults(func=_list)
    rt = sub.add_parser("retry", help="try quarantined subjects again")
    rt.add_argument("subjects", nargs="*", metavar="USCC")
    rt.add_argument("--all", action="store_true", help="every quarantined subject")
    add_config_option(rt)
    audited(rt, "changes retry")
    rt.set_defaults(func=_retry)
    dr = sub.add_parser("drain", help="decide every change that is due, in this process, then exit")
    add_config_option(dr)
    audited(dr, "changes drain")
    dr.set_defaults(func=_drain)


def _list(args: argparse.Namespace) -> int:
    from gateway.changes import feed

    svc = services_from(args)
    now = svc.clock.now()
    with svc.db.read() as conn:
        st = feed.stats(conn, now)
        rows = feed.list_changes(conn, state=feed.QUARANTINED if args.quarantined else None, limit=args.limit)
    print(f"{st.pending} pending (oldest {st.oldest_age(now):.0f} s), {st.quarantined} quarantined")
    for r in rows:
        line = f"{r['subject']}\t{r['state']}\tattempts={r['attempts']}\tcause={r['cause']}\tsince={r['enqueued_at'].isoformat()}"
        if r["last_error"]:
            line += f"\t{r['last_error']}"
        print(line)
    return EXIT_OK


def _retry(args: argparse.Namespace) -> int:
    from gateway.api.subjects import resolve
    from gateway.changes import feed
    from gateway.errors import GatewayError

    if bool(args.all) == bool(args.subjects):
        print("gateway changes retry: give --all or one or more subjects", file=sys.stderr)
        return EXIT_USAGE
    svc = services_from(args)
    ids = None
    if args.subjects:
        ids = []
        with svc.db.read() as conn:
            for given in args.subjects:
                try:
                    subject, normalized = resolve(conn, given)
                except GatewayError as exc:
                    print(f"gateway changes retry: {given}: {exc.detail}", file=sys.stderr)
                    return EXIT_FOUND_PROBLEMS
                if subject is None:
                    print(f"gateway changes retry: {normalized}: unknown subject", file=sys.stderr)
                    return EXIT_FOUND_PROBLEMS
                ids.append(subject.id)
    with svc.db.write() as conn:
        n = feed.retry(conn, ids, svc.clock.now())
    print(f"{n} quarantined subject(s) will be decided again")
    return EXIT_OK


def _drain(args: argparse.Namespace) -> int:
    svc = services_from(args)
    batch = svc.consumer.drain()
    print(f"decided {batch.done} subject(s); {len(batch.failed)} failed, {len(batch.quarantined)} quarantined")
    for sid, error in batch.failed.items():
        print(f"  subject {sid}: {error}")
    return EXIT_FOUND_PROBLEMS if batch.quarantined else EXIT_OK
