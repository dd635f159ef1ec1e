"""`gateway policy recompute|sweep` and `gateway list-entries list|show|transition`.

    gateway policy recompute --all              decide every subject with records again
    gateway policy recompute 91510703MA...      decide the named subjects again
    gateway policy sweep [--date 2026-06-02]    expire entries, flag windows, report overdue items
    gateway list-entries list [--list blacklist] [--state published] [--region 5107] [--json]
    gateway list-entries show ENTRY_ID
    gateway list-entries transition ENTRY_ID ACTION [--actor NAME] [--note TEXT] [--fraud]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, services_from

ACTIONS = ("notify", "confirm", "drop", "publish", "object", "uphold", "correct", "request-removal", "remove",
           "expire", "revoke", "review")


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("policy", help="decisions under the policy profile, the daily sweep")
    sub = parser.add_subparsers(dest="policy_command", required=True)
    rc = sub.add_parser("recompute", help="decide subjects again and propose list entries")
    rc.add_argument("subjects", nargs="*", metavar="USCC", help="subjects (any identifier)")
    rc.add_argument("--all", action="store_true", help="every subject with records")
    add_config_option(rc)
    rc.set_defaults(func=_recompute)
    sw = sub.add_parser("sweep", help="expire entries, flag removal/reapplication windows, report overdue items")
    sw.add_argument("--date", type=dt.date.fromisoformat, help="the day to sweep for (default: today in China)")
    add_config_option(sw)
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
    tr.add_argument("--actor", default="operator")
    tr.add_argument("--note")
    tr.add_argument("--fraud", action="store_true", help="revoking an incentive obtained by fraud")
    add_config_option(tr)
    tr.set_defaults(func=_transition)


def _service(args: argparse.Namespace) -> tuple[Any, Any]:
    from gateway import policy_service

    svc = services_from(args)
    return svc, policy_service.get(svc)


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _recompute(args: argparse.Namespace) -> int:
    from gateway.api.subjects import resolve
    from gateway.domain.identifiers import IdentifierError

    if bool(args.all) == bool(args.subjects):
        print("gateway: give --all or one or more subjects", file=sys.stderr)
        return EXIT_USAGE
    svc, policy = _service(args)
    if args.all:
        result = policy.recompute_all()
    else:
        ids = []
        with svc.db.read() as conn:
            for given in args.subjects:
                try:
                    subject, normalized = resolve(conn, given)
                except IdentifierError as exc:
                    print(f"gateway: {given}: {exc}", file=sys.stderr)
                    return EXIT_FOUND_PROBLEMS
                if subject is None:
                    print(f"gateway: {normalized}: unknown subject", file=sys.stderr)
                    return EXIT_FOUND_PROBLEMS
                ids.append(subject.id)
        result = policy.recompute(ids)
    print(f"{result.subjects} subject(s), {result.decisions_changed} decision(s) changed, "
          f"{len(result.proposed)} entr(ies) proposed")
    for uid in result.proposed:
        print(f"proposed {uid}")
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    _, policy = _service(args)
    result = policy.sweep(args.date)
    print(" ".join(f"{k}={v}" for k, v in result.counts().items()))
    for uid in result.expired:
        print(f"expired {uid}")
    for uid in result.removal_windows_opened:
        print(f"removal window open {uid}")
    for uid in result.reapply_windows_opened:
        print(f"reapplication open {uid}")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    _, policy = _service(args)
    items, _ = policy.entries(limit=args.limit, list_kind=args.list_kind, state=args.state, region=args.region,
                              expires_before=args.expires_before)
    for e in items:
        if args.json:
            print(json.dumps(e, ensure_ascii=False, default=str))
        else:
            print(f"{e['id']}\t{e['list']}\t{e['state']}\t{e['subject']}\t{e['expires_on'] or '-'}\t"
                  f"{','.join(e['cases'])}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from gateway.policy_outcomes import PolicyError

    _, policy = _service(args)
    try:
        _print(policy.entry(args.entry_id))
    except PolicyError as exc:
        print(f"gateway: {exc.detail}", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    return EXIT_OK


def _transition(args: argparse.Namespace) -> int:
    from gateway.domain.policy.lifecycle import IllegalTransition
    from gateway.policy_outcomes import PolicyError
    from gateway.policy_views import api_action

    _, policy = _service(args)
    try:
        result = policy.transition(args.entry_id, args.action, args.actor, args.note, args.fraud)
    except IllegalTransition as exc:
        allowed = ", ".join(api_action(a) for a in exc.allowed) or "none (final state)"
        print(f"gateway: cannot {args.action} an entry in state {exc.state}; allowed: {allowed}", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    except PolicyError as exc:
        print(f"gateway: {exc.detail}", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    _print(result.to_dict())
    return EXIT_OK
