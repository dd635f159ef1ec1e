"""`gateway uscc check CODE...`: validate unified social credit codes from the command line.

One line per code: the normalised code, or ``INVALID <input>: <reason>`` followed by
`` (did you mean <code>?)`` when a usual typing slip (O/0, I/1, Z/2, S/5) explains the
failure. ``-`` reads codes from standard input, one per line (blank lines are skipped).
Exit status 1 when any code is invalid, else 0.

`gateway uscc make DIVISION SEQ` prints a valid code for rehearsals and examples: authority 9
(市场监管, industry and commerce), category 1 (enterprise), the GB/T 2260 division, the
organisation code made of SEQ (eight digits) and its check character, then the code's own
check character. Such a code is well-formed, not necessarily registered to anyone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.domain.identifiers import IdentifierError, divisions, orgcode
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
    make = commands.add_parser(
        "make",
        help="print a valid code for rehearsals (division + sequence number)",
        description="Print a well-formed code (authority 9, category 1) for DIVISION and SEQ, e.g. "
                    "'gateway uscc make 510703 42'. Well-formed is not registered: use it for rehearsals.",
    )
    make.add_argument("division", metavar="DIVISION", help="GB/T 2260 division code, e.g. 510703 (涪城区)")
    make.add_argument("seq", metavar="SEQ", type=int, help="a number from 0 to 99999999 (the organisation code's body)")
    make.add_argument("--authority", default="9", help="registration authority (default 9)")
    make.add_argument("--category", default="1", help="category within the authority (default 1)")
    make.set_defaults(func=run_make)


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


def make_code(division: str, seq: int, authority: str = "9", category: str = "1") -> str:
    """A valid code for `division` and `seq`; IdentifierError/ValueError when none can be made."""
    if not divisions.is_known(division):
        raise ValueError(f"division {division!r} is not a GB/T 2260 code")
    if not 0 <= seq <= 99_999_999:
        raise ValueError(f"SEQ must be from 0 to 99999999 (got {seq})")
    body = f"{seq:08d}"
    first17 = authority + category + division + body + orgcode.calc_check_digit(body)
    return uscc_codes.validate(first17 + uscc_codes.calc_check_digit(first17))


def run_make(args: argparse.Namespace) -> int:
    try:
        print(make_code(args.division, args.seq, args.authority.upper(), args.category.upper()))
    except (IdentifierError, ValueError) as err:
        print(f"gateway uscc make: {err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
