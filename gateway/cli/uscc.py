"""`gateway uscc check CODE...`: validate unified social credit codes from the command line.

One line per code: the normalised code, or ``INVALID <input>: <reason>`` followed by
`` (did you mean <code>?)`` when a usual typing slip (O/0, I/1, Z/2, S/5) explains the
failure. ``-`` reads codes from standard input, one per line (blank lines are skipped).
Exit status 1 when any code is invalid, else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK
from gateway.domain.identifiers import IdentifierError
from gateway.domain.identifiers import uscc as uscc_codes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "uscc",
        help="unified social credit codes (GB 32100-2015)",
        description="Work with unified social credit codes (统一社会信用代码, GB 32100-2015).",
    )
    commands = parser.add_subparsers(dest="uscc_command", metavar="SUBCOMMAND", required=True)
    check = commands.add_parser(
        "check",
        help="validate codes; exit status 1 if any is invalid",
        description="Print each code normalised, or INVALID with the reason. '-' reads codes from stdin.",
    )
    check.add_argument("codes", nargs="+", metavar="CODE", help="a code, or '-' to read codes from stdin")
    check.set_defaults(func=run_check)


def _inputs(codes: Iterable[str]) -> Iterator[str]:
    for code in codes:
        if code == "-":
            for line in sys.stdin:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line
        else:
            yield code


def check_line(code: str) -> tuple[bool, str]:
    """Validate one code; returns (valid, the line to print)."""
    try:
        return True, uscc_codes.validate(code)
    except IdentifierError as err:
        line = f"INVALID {code}: {err}"
        if err.suggestion:
            line += f" (did you mean {err.suggestion}?)"
        return False, line


def run_check(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for code in _inputs(args.codes):
        valid, line = check_line(code)
        print(line)
        if not valid:
            status = EXIT_FOUND_PROBLEMS
    return status
