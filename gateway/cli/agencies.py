"""`gateway agencies add|list`: the source agencies whose records the gateway accepts."""

from __future__ import annotations

import argparse

from gateway.cli._common import add_config_option, audited, services_from

LEVELS = ("national", "provincial", "city", "district")


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("agencies", help="source agencies")
    sub = parser.add_subparsers(dest="agencies_command", required=True)
    add = sub.add_parser("add", help="register (or update) an agency")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--region", required=True, help="GB/T 2260 division code of its jurisdiction")
    add.add_argument("--level", required=True, choices=LEVELS)
    add.add_argument("--uscc")
    add.add_argument("--sector", help="the industry it supervises, e.g. electricity: its sector's publication "
                                      "deadlines apply alongside the general ones (docs/policy.md §8)")
    add_config_option(add)
    audited(add, "agencies add")
    add.set_defaults(func=_add)
    ls = sub.add_parser("list", help="list agencies")
    add_config_option(ls)
    ls.set_defaults(func=_list)


def _add(args: argparse.Namespace) -> int:
    from gateway.intake import repository as intake_repo

    if not (len(args.region) == 6 and args.region.isdigit()):
        print("gateway: --region must be a 6-digit division code")
        return 2
    svc = services_from(args)
    with svc.db.write() as conn:
        intake_repo.upsert_agency(conn, code=args.code, name=args.name, region=args.region, level=args.level,
                                  uscc=args.uscc, now=svc.clock.now(), sector=args.sector)
    print(f"agency {args.code} registered")
    return 0


def _list(args: argparse.Namespace) -> int:
    from gateway.intake import repository as intake_repo

    svc = services_from(args)
    with svc.db.read() as conn:
        for row in intake_repo.list_agencies(conn):
            print(f"{row.code}\t{row.level}\t{row.region}\t{row.name}" + (f"\t{row.sector}" if row.sector else ""))
    return 0
