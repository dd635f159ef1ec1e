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
    parser.add_argument("--report", type=Path, help="write the rejection report (CSV) here")
    parser.add_argument("--chunk", type=int, default=2000, help="records per transaction")
    add_config_option(parser)
    audited(parser, "import")
    parser.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from gateway.intake.importing import import_file

    if not args.file.is_file():
        print(f"gateway: no such file: {args.file}", file=sys.stderr)
        return 2
    svc = services_from(args)
    result = import_file(svc.intake, args.agency, args.file.read_bytes(), filename=args.file.name,
                         default_kind=args.kind, chunk_size=args.chunk, progress=_progress)
    counts = result.counts()
    print(f"{args.file.name}: {result.format}" + (f" ({result.encoding})" if result.encoding else "")
          + ", " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.report and result.rejection_rows():
        args.report.write_bytes(result.rejection_report())
        print(f"rejection report: {args.report}")
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
