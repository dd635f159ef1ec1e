"""工商注册号 (GS 15-2006)."""

from __future__ import annotations

import pytest
from stdnum.iso7064 import mod_11_10

from gateway.domain.identifiers import IdentifierError, InvalidChecksum, regno


def _error(code: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        regno.validate(code)
    return info.value


@pytest.mark.parametrize(
    "number", ["440301103097413", "110108000000016", "510703600000127", "100000400253499"]
)
def test_valid_numbers_pass(number):
    assert mod_11_10.is_valid(number)
    assert regno.validate(number) == number


def test_separators_and_full_width_digits_are_removed():
    assert regno.validate("４４０３０１ 1030-97413") == "440301103097413"


def test_the_check_digit_is_iso_7064_mod_11_10():
    assert regno.calc_check_digit("44030110309741") == "3"
    err = _error("440301103097414")
    assert isinstance(err, InvalidChecksum)
    assert err.code == "invalid_checksum" and err.position == 15 and err.field == "reg_no"


def test_wrong_length_is_refused():
    assert _error("44030110309741").code == "invalid_length"
    assert _error("4403011030974130").code == "invalid_length"
    assert _error(" ").code == "empty"


def test_letters_are_refused_with_their_position_and_slips_suggested():
    err = _error("44O301103097413")
    assert err.code == "invalid_character" and err.position == 3
    assert err.suggestion == "440301103097413"


def test_the_first_six_digits_must_be_a_known_division():
    body = "99999910309741"
    err = _error(body + mod_11_10.calc_check_digit(body))
    assert err.code == "unknown_division" and err.position == 1


def test_the_seventh_digit_tells_an_individual_business():
    assert regno.is_individual_business("510703600000127")
    assert not regno.is_individual_business("440301103097413")
