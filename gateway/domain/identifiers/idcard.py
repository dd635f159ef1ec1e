"""居民身份证号码 (citizen identification number, GB 11643-1999).

Responsible persons (法定代表人、主要负责人、分管安全负责人) are natural persons and are keyed
by this number (docs/policy.md §1). It has 18 characters:

* digits 1-6: the address code (地址码), the GB/T 2260 division code of the place where the
  number was first issued;
* digits 7-14: the birth date, ``YYYYMMDD``;
* digits 15-17: a sequence number (顺序码); odd for men, even for women;
* character 18: the check character, ISO 7064 MOD 11-2 over digits 1-17 (``X`` for 10).

The 15-digit numbers of the first generation (GB 11643-1989) have no check digit and are not
accepted.

The check digit and birth date come from python-stdnum's ``stdnum.cn.ric``, but not its
birth-place test: stdnum requires the county to have existed in the *birth* year, yet the
address code is the one in force when the number was *issued*, so everybody born before
their county was created (涪城区 ``510703`` dates from 1992) would be rejected. Here the
address code only has to be a division code that has ever existed.

The number is personal information: show it with `mask`, never in full, outside the record
it belongs to.

>>> validate('11010519491231002X')
'11010519491231002X'
>>> validate('110105 19491231 0021')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidChecksum: The check character of the ID number (position 18) '1' does not match digits 1-17 (GB 11643, ISO 7064 MOD 11-2); a digit was probably mistyped.
>>> validate('110105194902300028')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidComponent: Digits 7-14 of the ID number (19490230) are not a valid birth date (YYYYMMDD).
>>> mask('11010519491231002X')
'110105********002X'
"""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric

from gateway.domain.identifiers import divisions
from gateway.domain.identifiers._text import checked_with_suggestion, clean, passes
from gateway.domain.identifiers.errors import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)

FIELD = "id_number"
LENGTH = 18
# Without a clock (this package is pure) only the century is checked; pass `today` to refuse
# a birth date in the future.
_BIRTH_YEARS = range(1850, 2100)


def compact(number: str) -> str:
    """Return the number half-width, upper-case, without spaces, dashes or invisible characters."""
    return clean(number)


def calc_check_digit(number: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    return ric.calc_check_digit(compact(number)[:17] + "0")


def get_birth_date(number: str) -> dt.date:
    """The birth date (digits 7-14) of a valid number."""
    number = validate(number)
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _check(number: str, today: dt.date | None) -> str:
    if not number:
        raise InvalidLength("No ID number was given.", code="empty", field=FIELD)
    if len(number) != LENGTH:
        raise InvalidLength(
            f"A 居民身份证号码 has {LENGTH} characters, this one has {len(number)}.", field=FIELD
        )
    for position, char in enumerate(number, start=1):
        allowed = "0123456789X" if position == LENGTH else "0123456789"
        if char not in allowed:
            raise InvalidFormat(
                f"Character {position} of the ID number is {char!r}; characters 1-17 are digits and "
                "character 18 is a digit or 'X'.",
                position=position,
                field=FIELD,
            )
    if not divisions.is_known(number[:6]):
        raise InvalidComponent(
            f"Digits 1-6 of the ID number ({number[:6]}) are not a known division code (GB/T 2260).",
            code="unknown_division",
            position=1,
            field=FIELD,
        )
    try:
        born = ric.get_birth_date(number)
    except Exception:  # stdnum raises its own InvalidComponent for an impossible date
        born = None
    if born is None or born.year not in _BIRTH_YEARS or (today is not None and born > today):
        raise InvalidComponent(
            f"Digits 7-14 of the ID number ({number[6:14]}) are not a valid birth date (YYYYMMDD).",
            code="invalid_birth_date",
            position=7,
            field=FIELD,
        )
    if number[17] != ric.calc_check_digit(number):
        raise InvalidChecksum(
            f"The check character of the ID number (position 18) {number[17]!r} does not match digits 1-17 "
            "(GB 11643, ISO 7064 MOD 11-2); a digit was probably mistyped.",
            position=18,
            field=FIELD,
        )
    return number


def validate(number: str, *, today: dt.date | None = None) -> str:
    """Return the compact number or raise an `IdentifierError` naming the broken rule.

    With `today`, a birth date after it is refused too.
    """
    return checked_with_suggestion(lambda n: _check(n, today), compact(number))


def is_valid(number: str) -> bool:
    """Whether the number is a valid 居民身份证号码."""
    return passes(lambda n: _check(n, None), compact(number))


def format(number: str) -> str:
    """The printed form, which is the compact form."""
    return compact(number)


def mask(number: object) -> str:
    """Hide all but the first 6 and last 4 characters; never raises.

    Anything shorter than 15 characters is hidden completely, so a fragment never shows more
    than a full number would.

    >>> mask('510703 1960 0101 1233'), mask('123'), mask(None)
    ('510703********1233', '***', '')
    """
    try:
        text = clean(number) if isinstance(number, str) else ("" if number is None else clean(str(number)))
    except Exception:
        return "*" * 18
    if len(text) < 15:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def person_key(number: str) -> str:
    """The key of a natural person: a digest of the compact number, so URLs, logs and foreign
    keys never carry the number itself (one person across records and agencies)."""
    import hashlib

    return "person:" + hashlib.sha256(("person:" + compact(number)).encode()).hexdigest()[:32]
