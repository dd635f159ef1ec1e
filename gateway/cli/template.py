"""`gateway template KIND [--out FILE]`: the import template of a record kind, as XLSX."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.domain.records import RecordKind


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser(
        "template", help="write the XLSX import template of a record kind (headers, drop-down lists, an example row)")
    parser.add_argument("kind", help=f"one of {', '.join(RecordKind)} (or its Chinese name, e.g. 行政处罚)")
    parser.add_argument("--out", type=Path, help="where to write it (default: KIND.xlsx in the current directory)")
    parser.set_defaults(func=_template)


def _template(args: argparse.Namespace) -> int:
    from gateway.intake import templates
    from gateway.intake.columns import kind_of

    kind = kind_of(args.kind)
    if kind is None:
        print(f"gateway: unknown record kind {args.kind!r}; one of {', '.join(RecordKind)}", file=sys.stderr)
        return 2
    out = args.out or Path(f"{kind}.xlsx")
    out.write_bytes(templates.workbook(kind))
    print(f"{out}: the {kind} import template")
    return 0
