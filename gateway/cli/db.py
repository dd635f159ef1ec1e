"""`gateway db upgrade|current`."""

from __future__ import annotations

import argparse

from gateway.cli._common import add_config_option, settings_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("db", help="database schema (Alembic migrations)")
    sub = parser.add_subparsers(dest="db_command", required=True)
    up = sub.add_parser("upgrade", help="apply migrations up to the latest (or --revision)")
    up.add_argument("--revision", default="heads")
    add_config_option(up)
    up.set_defaults(func=_upgrade)
    cur = sub.add_parser("current", help="show the applied and the latest revision")
    add_config_option(cur)
    cur.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from gateway.store import migrate
    from gateway.store.db import Database

    db = Database(settings_from(args).database_url)
    migrate.upgrade(db, args.revision)
    print(f"database at revision {', '.join(sorted(migrate.current_revisions(db)))}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from gateway.store import migrate
    from gateway.store.db import Database

    db = Database(settings_from(args).database_url)
    current, head = migrate.current_revisions(db), migrate.head_revisions(db)
    print(f"applied: {', '.join(sorted(current)) or '(none)'}  latest: {', '.join(sorted(head))}")
    return 0 if current == head else 1
