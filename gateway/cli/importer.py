"""`gateway import FILE --agency CODE`: load a CSV/XLSX/XML file of records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli._common import add_config_option, audited, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("import", help="import records from a CSV (UTF-8/GB18030), XLSX or XML file")
    parser.add_argument("file", type=Path)
    parser.add_argument("--agency", required=True, help="the source agency's code")
    parser.add_argument("--kind", help="record kind when the file does not say")
    parser.add_argument("--report", type=Path,
                        help="write the rejection report here: FILE.csv (a list) or FILE.xlsx (the sheet, bad cells "
                             "marked and commented, to fix and import again)")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="the report's language (default zh)")
    parser.add_argument("--chunk", type=int, default=2000, help="records per transaction")
    add_config_option(parser)
    audited(parser, "import")
    parser.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from gateway.intake.importing import import_file
    from gateway.intake.limits import FileUnreadable, ReadLimits
    from gateway.xmlsafe import UnsafeXml

    if not args.file.is_file():
        print(f"gateway: no such file: {args.file}", file=sys.stderr)
        return 2
    svc = services_from(args)
    data = args.file.read_bytes()
    try:
        result = import_file(svc.intake, args.agency, data, filename=args.file.name,
                             default_kind=args.kind, chunk_size=args.chunk, progress=_progress,
                             limits=ReadLimits.from_settings(svc.settings))
    except (FileUnreadable, UnsafeXml) as exc:  # the file refused as a whole: one line, why
        reason = getattr(exc, "reason", "unsafe_xml")
        print(f"gateway import: {args.file.name}: {reason}: {exc}", file=sys.stderr)
        return 2
    counts = result.counts()
    print(f"{args.file.name}: {result.format}" + (f" ({result.encoding})" if result.encoding else "")
          + ", " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    lines = result.report_lines(args.lang)
    if args.report and lines:
        report = args.report
        if report.suffix.lower() == ".xlsx" and result.can_mirror():
            report.write_bytes(result.rejection_workbook(data, args.lang, args.kind))
        else:  # XML, or too large a file to mark up: the list
            report = report.with_suffix(".csv")
            report.write_bytes(result.rejection_report(args.lang))
        print(f"rejection report: {report} ({len(lines)} problems)")
    return 1 if counts["rejected"] or counts["file_problems"] else 0


def _progress(done: int, total: int) -> None:
    if not sys.stderr.isatty() or total == 0:
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
