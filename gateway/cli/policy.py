"""`gateway policy recompute|sweep` and `gateway list-entries list|show|transition`.

    gateway policy recompute --all              decide every subject with records again
    gateway policy recompute 91510703MA...      decide the named subjects again
    gateway policy recompute --date 2026-03-02 91510703MA...   decide them as of that day
    gateway policy sweep [--date 2026-06-02]    expire entries, flag windows, report overdue items
    gateway list-entries list [--list blacklist] [--state published] [--region 5107] [--json]
    gateway list-entries show ENTRY_ID
    gateway credit-repair apply USCC RECORD_ID [--on DATE] [--note TEXT]   the subject applies (信用修复)
    gateway credit-repair decide REPAIR_ID approved|refused [--on DATE] [--note TEXT]
    gateway credit-repair show REPAIR_ID
    gateway list-entries transition ENTRY_ID ACTION [--note TEXT] [--argument waived|rejected] [--fraud]
                                     [--on 2026-03-02]   the day the step really happened
                                     [--level city]      approve: the level approving (level by level)
                                     [--evidence REF]    refuse: the evidence an application did not pass on
                                     [--acting-for AGENCY] answering an objection for the providing agency
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, audited, services_from, step_actor

ACTIONS = ("notify", "confirm", "drop", "publish", "object", "reject-objection", "correct-listing", "annul-listing",
           "request-removal", "remove", "expire", "revoke", "review", "approve", "refuse", "accept-argument",
           "notify-removal",
           "uphold", "correct")  # the last two: the first release's names, kept for one release


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("policy", help="decisions under the policy profile, the daily sweep")
    sub = parser.add_subparsers(dest="policy_command", required=True)
    rc = sub.add_parser("recompute", help="decide subjects again (through the change feed) and propose list entries")
    rc.add_argument("subjects", nargs="*", metavar="USCC", help="subjects (any identifier): decided now")
    rc.add_argument("--all", action="store_true", help="every subject: put in the change feed for the consumers")
    rc.add_argument("--date", type=dt.date.fromisoformat,
                    help="decide the named subjects as of this day (default: today in China; never after today)")
    add_config_option(rc)
    audited(rc, "policy recompute")
    rc.set_defaults(func=_recompute)
    sw = sub.add_parser("sweep", help="decide the subjects whose next change day has come (expiry, windows), "
                        "report overdue items")
    sw.add_argument("--date", type=dt.date.fromisoformat, help="the day to sweep for (default: today in China)")
    add_config_option(sw)
    audited(sw, "policy sweep")
    sw.set_defaults(func=_sweep)

    entries = subparsers.add_parser("list-entries", help="joint punishment, blacklist and incentive list entries")
    esub = entries.add_subparsers(dest="entries_command", required=True)
    ls = esub.add_parser("list", help="list entries")
    ls.add_argument("--list", dest="list_kind", choices=("joint_punishment", "blacklist", "incentive"))
    ls.add_argument("--state")
    ls.add_argument("--region", help="division code or prefix")
    ls.add_argument("--expires-before", type=dt.date.fromisoformat)
    ls.add_argument("--limit", type=int, default=1000)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    add_config_option(ls)
    ls.set_defaults(func=_list)
    show = esub.add_parser("show", help="one entry with its history")
    show.add_argument("entry_id")
    add_config_option(show)
    show.set_defaults(func=_show)
    tr = esub.add_parser("transition", help="one step of the entry's procedure")
    tr.add_argument("entry_id")
    tr.add_argument("action", choices=ACTIONS)
    tr.add_argument("--argument", choices=("waived", "rejected"),
                    help="confirm: the subject waived its argument, or its argument was not accepted")
    tr.add_argument("--note")
    tr.add_argument("--fraud", action="store_true", help="revoking an incentive obtained by fraud")
    tr.add_argument("--on", dest="happened_on", type=dt.date.fromisoformat,
                    help="the day the step really happened (default today; not in the future, not before the "
                    "step it follows)")
    tr.add_argument("--level", help="approve: the level approving (checked against the profile's next level)")
    tr.add_argument("--evidence", help="refuse: the evidence the application did not pass on")
    tr.add_argument("--acting-for", metavar="AGENCY",
                    help="answering an objection: the providing agency you act for (谁提供、谁负责; recorded)")
    add_config_option(tr)
    audited(tr, "list-entries transition")
    tr.set_defaults(func=_transition)

    repair = subparsers.add_parser("credit-repair", help="credit repair (信用修复) of a penalty's publication")
    rsub = repair.add_subparsers(dest="repair_command", required=True)
    ra = rsub.add_parser("apply", help="the subject applies (refused before the minimum publication period)")
    ra.add_argument("subject", metavar="USCC")
    ra.add_argument("record_id", help="the penalty's record id")
    ra.add_argument("--on", dest="happened_on", type=dt.date.fromisoformat, help="the day the subject applied")
    ra.add_argument("--note")
    add_config_option(ra)
    audited(ra, "credit-repair apply")
    ra.set_defaults(func=_repair_apply)
    rd = rsub.add_parser("decide", help="approve (the publication is withdrawn everywhere it went) or refuse")
    rd.add_argument("repair_id")
    rd.add_argument("outcome", choices=("approved", "refused"))
    rd.add_argument("--on", dest="happened_on", type=dt.date.fromisoformat, help="the day it was decided")
    rd.add_argument("--note")
    add_config_option(rd)
    audited(rd, "credit-repair decide")
    rd.set_defaults(func=_repair_decide)
    rs = rsub.add_parser("show", help="one application")
    rs.add_argument("repair_id")
    add_config_option(rs)
    rs.set_defaults(func=_repair_show)


def _problems_reported(command: Callable[..., int]) -> Callable[..., int]:
    """A refusal of the policy service (an unknown entry, a step not allowed, …) is printed
    as `gateway: <detail>` and exits EXIT_FOUND_PROBLEMS, as the API answers its problem."""
    @functools.wraps(command)
    def run(*args: Any, **kw: Any) -> int:  # noqa: ANN401
        from gateway.errors import GatewayError

        try:
            return command(*args, **kw)
        except GatewayError as exc:
            print(f"gateway: {exc.detail}", file=sys.stderr)
            return EXIT_FOUND_PROBLEMS
    return run


@_problems_reported
def _repair_apply(args: argparse.Namespace) -> int:
    from gateway.api.subjects import resolve

    svc = services_from(args)
    with svc.db.read() as conn:
        subject, normalized = resolve(conn, args.subject)
    if subject is None:
        print(f"gateway: {normalized}: unknown subject", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    _print(svc.policy.apply_repair(subject.id, args.record_id, step_actor(args), args.note, args.happened_on))
    return EXIT_OK


@_problems_reported
def _repair_decide(args: argparse.Namespace) -> int:
    _print(services_from(args).policy.decide_repair(args.repair_id, args.outcome, step_actor(args), args.note,
                                                    args.happened_on))
    return EXIT_OK


@_problems_reported
def _repair_show(args: argparse.Namespace) -> int:
    _print(services_from(args).policy.repair(args.repair_id))
    return EXIT_OK


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _recompute(args: argparse.Namespace) -> int:
    from gateway.api.subjects import resolve
    from gateway.errors import GatewayError

    if bool(args.all) == bool(args.subjects):
        print("gateway: give --all or one or more subjects", file=sys.stderr)
        return EXIT_USAGE
    if args.all and args.date:
        print("gateway: --date decides the named subjects now; --all only puts every subject in the change feed",
              file=sys.stderr)
        return EXIT_USAGE
    svc = services_from(args)
    if args.all:
        print(f"{svc.policy.recompute_all()} subject(s) put in the change feed; the consumers decide them")
        return EXIT_OK
    ids = []
    with svc.db.read() as conn:
        for given in args.subjects:
            try:
                subject, normalized = resolve(conn, given)
            except GatewayError as exc:
                print(f"gateway: {given}: {exc.detail}", file=sys.stderr)
                return EXIT_FOUND_PROBLEMS
            if subject is None:
                print(f"gateway: {normalized}: unknown subject", file=sys.stderr)
                return EXIT_FOUND_PROBLEMS
            ids.append(subject.id)
    return _report_recompute(svc, ids, args.date)


@_problems_reported
def _report_recompute(svc: Any, ids: list[int], as_of: dt.date | None) -> int:  # noqa: ANN401
    result = svc.policy.recompute(ids, as_of=as_of)
    print(f"{result.subjects} subject(s) decided, {len(result.proposed)} entr(ies) proposed")
    for uid in result.proposed:
        print(f"proposed {uid}")
    for sid, error in result.failed.items():
        print(f"gateway: subject {sid} could not be decided: {error}", file=sys.stderr)
    return EXIT_FOUND_PROBLEMS if result.failed else EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    svc = services_from(args)
    result = svc.policy.sweep(args.date)
    print(" ".join(f"{k}={v}" for k, v in result.counts().items()))
    for uid in result.expired:
        print(f"expired {uid}")
    for uid in result.basis_withdrawn:
        print(f"basis withdrawn {uid}")
    for uid in result.removal_windows_opened:
        print(f"removal window open {uid}")
    for uid in result.reapply_windows_opened:
        print(f"reapplication open {uid}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    items, _ = services_from(args).policy.entries(limit=args.limit, list_kind=args.list_kind, state=args.state, region=args.region,
                              expires_before=args.expires_before)
    for e in items:
        if args.json:
            print(json.dumps(e, ensure_ascii=False, default=str))
        else:
            print(f"{e['id']}\t{e['list']}\t{e['state']}\t{e['subject']}\t{e['expires_on'] or '-'}\t"
                  f"{','.join(e['cases'])}")
    return EXIT_OK


@_problems_reported
def _show(args: argparse.Namespace) -> int:
    _print(services_from(args).policy.entry(args.entry_id))
    return EXIT_OK


@_problems_reported
def _transition(args: argparse.Namespace) -> int:
    from gateway.policy.provider import Acting

    who = Acting(step_actor(args), acting_for=args.acting_for)
    result = services_from(args).policy.transition(args.entry_id, args.action, who, args.note, args.fraud,
                                                   args.argument, args.happened_on, args.level, args.evidence)
    _print(result.to_dict())
    return EXIT_OK
