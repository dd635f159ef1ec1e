"""工商注册号 (registration number of a market subject, GS 15-2006).

Before the USCC, the market-regulation authorities (工商行政管理机关) gave every enterprise and
个体工商户 a 15-digit registration number under GS 15-2006 《工商行政管理市场主体注册号编制规则》.
It still arrives in legacy records, and for a 个体工商户 whose licence shows the placeholder
USCC it is the only identifier (docs/policy.md §1). The parts:

* digits 1-6: the code of the authority of first registration (首次登记机关代码) — the
  GB/T 2260 division code of a province-, city- or county-level authority, ``100000`` for the
  national authority, or a code assigned to a development-zone authority (see `divisions`);
* digits 7-14: a sequence number (顺序码) whose first digit tells the kind of subject —
  0-3 domestic enterprise (内资), 4-5 foreign-invested (外资), 6-9 个体工商户;
* digit 15: the check digit, ISO 7064 MOD 11,10 over digits 1-14 (GS 15-2006 附录A).

Older 13-digit numbers were all re-issued as 15-digit ones in 2007 and are not accepted.

>>> validate('440301103097413')
'440301103097413'
>>> validate('4403 0110 3097 414')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidChecksum: The check digit of the 工商注册号 (position 15) '4' does not match digits 1-14 (ISO 7064 MOD 11,10); a digit was probably mistyped.
>>> is_individual_business('510703600000127')
True
"""

from __future__ import annotations

from stdnum.iso7064 import mod_11_10

from gateway.domain.identifiers import divisions
from gateway.domain.identifiers._text import checked_with_suggestion, clean, passes
from gateway.domain.identifiers.errors import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)

FIELD = "reg_no"
LENGTH = 15


def compact(number: str) -> str:
    """Return the number half-width, without spaces, dashes or invisible characters."""
    return clean(number)


def calc_check_digit(number: str) -> str:
    """The ISO 7064 MOD 11,10 check digit for the first 14 digits."""
    return mod_11_10.calc_check_digit(compact(number)[:14])


def _check(number: str) -> str:
    if not number:
        raise InvalidLength("No 工商注册号 was given.", code="empty", field=FIELD)
    if len(number) != LENGTH:
        raise InvalidLength(
            f"A 工商注册号 has {LENGTH} digits, this one has {len(number)} characters.", field=FIELD
        )
    for position, char in enumerate(number, start=1):
        if not ("0" <= char <= "9"):
            raise InvalidFormat(
                f"Character {position} of the 工商注册号 is {char!r}; a 工商注册号 has digits only.",
                position=position,
                field=FIELD,
            )
    if not divisions.is_known(number[:6]):
        raise InvalidComponent(
            f"Digits 1-6 ({number[:6]}) are not a known code of a registration authority "
            "(GB/T 2260 division code or 100000).",
            code="unknown_division",
            position=1,
            field=FIELD,
        )
    if not mod_11_10.is_valid(number):
        raise InvalidChecksum(
            f"The check digit of the 工商注册号 (position 15) {number[14]!r} does not match digits 1-14 "
            "(ISO 7064 MOD 11,10); a digit was probably mistyped.",
            position=15,
            field=FIELD,
        )
    return number


def validate(number: str) -> str:
    """Return the compact 工商注册号 or raise an `IdentifierError` naming the broken rule."""
    return checked_with_suggestion(_check, compact(number))


def is_valid(number: str) -> bool:
    """Whether the number is a valid 工商注册号."""
    return passes(_check, compact(number))


def format(number: str) -> str:
    """The printed form, which is the compact form."""
    return compact(number)


def is_individual_business(number: str) -> bool:
    """Whether a valid 工商注册号 belongs to a 个体工商户 (sequence starting 6-9)."""
    return validate(number)[6] in "6789"
