"""Organisation code 组织机构代码 (GB 11714-1997 全国组织机构代码编制规则).

The nine-character code that identified every organisation before the unified social credit
code; since 2015 it lives on as characters 9-17 of the USCC (the 主体标识码), so a legacy
record keyed by it can be joined to the USCC that embeds it. The parts:

* characters 1-8: the body (本体代码), digits or capital letters;
* character 9: the check character (校验码), a digit or ``X``.

It is usually printed with a hyphen before the check character: ``60003734-1``.

The check character (GB 11714-1997 §5): each body character has a value (digits their own
value, ``A``=10 … ``Z``=35); with the weights 3, 7, 9, 10, 5, 8, 4, 2 the check value is
``11 - (Σ value × weight mod 11)``, written ``X`` for 10 and ``0`` for 11.

A mod-11 check cannot see a substitution that changes a value by 11 or 22 (``0``↔``B``↔``M``,
``1``↔``C``↔``N`` …); inside a USCC the USCC's own check character catches those.

>>> validate('60003734-1')
'600037341'
>>> validate('M000100Y4')
'M000100Y4'
>>> format('600037341')
'60003734-1'
>>> calc_check_digit('60003734')
'1'
>>> validate('600037342')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidChecksum: The organisation code check character (position 9) '2' does not match characters 1-8 (GB 11714 weights 3,7,9,10,5,8,4,2 mod 11); a character was probably mistyped.
>>> try:
...     validate('6OOO3734-1')
... except IdentifierError as err:
...     print(err.code, err.position, err.suggestion)
invalid_checksum 9 600037341
"""

from __future__ import annotations

import re
from operator import mul

from gateway.domain.identifiers._text import checked_with_suggestion, clean, passes
from gateway.domain.identifiers.errors import IdentifierError, InvalidChecksum, InvalidFormat, InvalidLength  # noqa: F401 - the doctests catch it

FIELD = "org_code"
LENGTH = 9
WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_BODY_CHAR = re.compile(r"[0-9A-Z]")
_CHECK_CHAR = re.compile(r"[0-9X]")
_BODY = re.compile(r"[0-9A-Z]{8}")


def compact(number: str) -> str:
    """Return the number without separators, half-width and upper-case."""
    return clean(number)


def _value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


_VALUES = {c: _value(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_CHECK = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0")  # by 11 - remainder


def calc_check_digit(body: str) -> str:
    """The GB 11714 check character for the eight-character body."""
    if _BODY.fullmatch(body):  # the common case, by the tables (a third of an uncached identification)
        remainder = sum(map(mul, map(_VALUES.__getitem__, body), WEIGHTS)) % 11
    else:
        remainder = sum(_value(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11
    return _CHECK[11 - remainder]


def _check(number: str) -> str:
    if not number:
        raise InvalidLength("No organisation code was given.", code="empty", field=FIELD)
    if len(number) != LENGTH:
        raise InvalidLength(
            f"An organisation code has {LENGTH} characters (8 + check character), this one has {len(number)}.",
            field=FIELD,
        )
    for position, char in enumerate(number[:8], start=1):
        if not _BODY_CHAR.fullmatch(char):
            raise InvalidFormat(
                f"Character {position} of the organisation code is {char!r}; "
                "the body (characters 1-8) uses digits and capital letters only.",
                position=position,
                field=FIELD,
            )
    if not _CHECK_CHAR.fullmatch(number[8]):
        raise InvalidFormat(
            f"The organisation code check character (position 9) is {number[8]!r}; it must be a digit or 'X'.",
            position=9,
            field=FIELD,
        )
    if number[8] != calc_check_digit(number[:8]):
        raise InvalidChecksum(
            f"The organisation code check character (position 9) {number[8]!r} does not match characters 1-8 "
            "(GB 11714 weights 3,7,9,10,5,8,4,2 mod 11); a character was probably mistyped.",
            position=9,
            field=FIELD,
        )
    return number


def validate(number: str) -> str:
    """Return the compact organisation code or raise an `IdentifierError` saying what is wrong."""
    return checked_with_suggestion(_check, compact(number))


def is_valid(number: str) -> bool:
    """Whether the number is a valid organisation code."""
    return passes(_check, compact(number))


def format(number: str) -> str:
    """The printed form ``XXXXXXXX-X``."""
    number = compact(number)
    return f"{number[:8]}-{number[8:]}"
