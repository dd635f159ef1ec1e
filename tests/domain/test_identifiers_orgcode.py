"""Organisation code (GB 11714)."""

from __future__ import annotations

import pytest

from gateway.domain.identifiers import IdentifierError, InvalidChecksum, InvalidFormat, InvalidLength, orgcode


def _error(code: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        orgcode.validate(code)
    return info.value


@pytest.mark.parametrize("typed", ["600037341", "60003734-1", "６０００３７３４－１", " 60003734\u20141 "])
def test_the_hyphen_before_the_check_character_is_optional(typed):
    assert orgcode.validate(typed) == "600037341"


def test_the_code_embedded_in_a_real_uscc_validates():
    assert orgcode.validate("M000100Y4") == "M000100Y4"


def test_format_puts_the_hyphen_before_the_check_character():
    assert orgcode.format("600037341") == "60003734-1"
    assert orgcode.format("M000100Y4") == "M000100Y-4"


@pytest.mark.parametrize(
    ("body", "check"), [("60003734", "1"), ("M000100Y", "4"), ("00000006", "X"), ("00000000", "0")]
)
def test_check_character_uses_x_for_10_and_0_for_11(body, check):
    assert orgcode.calc_check_digit(body) == check
    assert orgcode.is_valid(body + check)


def test_wrong_length_is_refused():
    err = _error("60003734")
    assert isinstance(err, InvalidLength)
    assert err.code == "invalid_length" and err.field == "org_code"
    assert _error("").code == "empty"


def test_a_bad_body_character_is_named_with_its_position():
    err = _error("6000#734-1")
    assert isinstance(err, InvalidFormat)
    assert err.position == 5 and err.code == "invalid_character"


def test_the_check_character_must_be_a_digit_or_x():
    err = _error("60003734-A")
    assert err.position == 9 and err.code == "invalid_character"


def test_a_wrong_check_character_is_refused_at_position_9():
    err = _error("60003734-2")
    assert isinstance(err, InvalidChecksum)
    assert err.code == "invalid_checksum" and err.position == 9 and err.field == "org_code"
    assert "position 9" in str(err)


def test_an_o_for_0_slip_is_suggested():
    err = _error("6OOO3734-1")
    assert err.suggestion == "600037341"
    err = _error("60003734-O")
    assert err.code == "invalid_character" and err.suggestion is None  # 600037340 is not valid either


def test_a_mod_11_blind_spot_exists_in_the_organisation_code_alone():
    # B (11) or M (22) for 0 changes the weighted sum by a multiple of 11: GB 11714 cannot see it.
    assert orgcode.is_valid("6B0037341") and orgcode.is_valid("6M0037341")
