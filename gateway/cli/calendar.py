"""`gateway calendar show YEAR` / `load FILE`: the working-day calendar in force, and the
official holiday notice of a year loaded as data (docs/policy.md, rule 11).

A year the official calendar (`chinesecalendar`) lacks is estimated from the statutory
holidays until its notice is loaded. The notice file is YAML (or JSON):

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays: [2027-01-01, {from: 2027-02-05, to: 2027-02-11}]
    workdays: [2027-02-14]        # make-up working weekends (调休)

Loading a year again replaces it. Each process reads the notices when it starts (restart
`gateway run` / `serve` / `worker` after loading); records already stored keep the deadline
they were given, marked estimated, until their agency sends them again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli import EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, audited, services_from

_SOURCES = {
    "notice": "the official notice loaded as data",
    "official": "the official calendar (chinesecalendar)",
    "estimated": "ESTIMATED: weekends and statutory holidays only, no make-up working days "
                 "(load the year's notice with `gateway calendar load FILE`)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calendar", help="working-day calendar: show a year, load a year's notice")
    sub = parser.add_subparsers(dest="calendar_command", metavar="SUBCOMMAND", required=True)
    show = sub.add_parser("show", help="print the holidays and make-up working days in force for a year")
    show.add_argument("year", type=int)
    add_config_option(show)
    show.set_defaults(func=_show)
    load = sub.add_parser("load", help="load (or replace) a year's official holiday notice from a YAML file")
    load.add_argument("file", type=Path)
    add_config_option(load)
    audited(load, "calendar load")
    load.set_defaults(func=_load)


def _show(args: argparse.Namespace) -> int:
    from gateway.domain.calendar import year_days

    if not 1900 < args.year < 2100:
        print(f"gateway: calendar show: year out of range: {args.year}", file=sys.stderr)
        return EXIT_USAGE
    calendar = services_from(args).calendar
    source, days = year_days(calendar, args.year)
    notice = calendar.notice(args.year)
    print(f"{args.year}: {_SOURCES[source]}" + (f": {notice.source}" if notice else ""))
    for d in days:
        print(f"{d.kind}\t{d.date.isoformat()}\t{d.date.strftime('%a')}\t{d.name}".rstrip())
    return EXIT_OK


def _load(args: argparse.Namespace) -> int:
    import yaml

    from gateway.calendars import repository
    from gateway.domain.holidays import NoticeError, notice_from_mapping

    try:
        notice = notice_from_mapping(yaml.safe_load(args.file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        print(f"gateway: calendar load: cannot read {args.file}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    except NoticeError as exc:
        print(f"gateway: calendar load: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    svc = services_from(args)
    with svc.db.write() as conn:
        replaced = repository.store_notice(conn, notice, svc.clock.now())
    print(f"{'replaced' if replaced else 'loaded'} the {notice.year} notice ({notice.source}): "
          f"{len(notice.holidays)} holidays, {len(notice.workdays)} make-up working days; "
          "restart the gateway's processes to apply it")
    return EXIT_OK
