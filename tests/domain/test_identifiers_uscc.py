"""USCC (GB 32100-2015): every rule, with real codes and codes built by `make`."""

from __future__ import annotations

import pickle

import pytest
from stdnum.cn import uscc as stdnum_uscc

from gateway.domain.identifiers import (
    IdentifierError,
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    uscc,
)

# Real codes, each checked to validate before use: 91350100M000100Y43 (a Fuzhou enterprise
# with a post-2015 "M…" subject code), 91110000600037341L (Beijing, legacy organisation code),
# and 苏州工业园区 enterprises whose authority code 320594 is not in GB/T 2260.
REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91320594780268314T", "91320594688334374M"]


def _error(code: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        uscc.validate(code)
    return info.value


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_validate_unchanged(code):
    assert uscc.validate(code) == code
    assert uscc.is_valid(code)


def test_compact_turns_full_width_into_half_width_and_upper_case():
    assert uscc.compact("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "typed",
    [
        "9135 0100 M000 100Y 43",
        "9135\u30000100M000100Y43",
        "91350100-M000100Y4-3",
        "91350100\u2014M000100Y43",
        "91350100\u2013M000100Y43",
        "91350100\u2212M000100Y43",
        "91350100\uff0dM000100Y43",
        "\ufeff91350100\u200bM000100\u200c\u200dY43\u2060",
        " 91350100m000100y43\n",
    ],
)
def test_compact_strips_spaces_dashes_and_zero_width_characters(typed):
    assert uscc.compact(typed) == "91350100M000100Y43"
    assert uscc.validate(typed) == "91350100M000100Y43"


def test_compact_is_idempotent_on_a_messy_example():
    once = uscc.compact(" ９１-３５\u3000０１００ｍ\u200b ")
    assert uscc.compact(once) == once


def test_empty_input_is_reported_as_empty():
    for typed in ("", "   ", "\u3000\u200b-"):
        err = _error(typed)
        assert isinstance(err, InvalidLength)
        assert err.code == "empty" and err.field == "uscc"


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", "9"])
def test_wrong_length_names_the_rule(code):
    err = _error(code)
    assert isinstance(err, InvalidLength)
    assert err.code == "invalid_length" and err.position is None
    assert "18 characters" in str(err) and str(len(code)) in str(err)


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [
        ("91350100M000100V43", 16, "V"),
        ("9135010OM000100Y43", 8, "O"),
        ("91350100M000100Y4#", 18, "#"),
        ("91350100M0001é0Y43", 14, "É"),
    ],
)
def test_a_character_outside_the_alphabet_is_named_with_its_position(code, position, char):
    err = _error(code)
    assert isinstance(err, InvalidFormat)
    assert err.code == "invalid_character"
    assert err.position == position
    assert f"Character {position}" in str(err) and repr(char) in str(err)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("9135O100M000100Y43", "91350100M000100Y43"),  # O for 0
        ("9111OOOO6OOO37341L", "91110000600037341L"),  # several O for 0
        ("91110000600O3734IL", "91110000600037341L"),  # O and I
        ("9I110000600037341L", "91110000600037341L"),  # I for 1 in the category
        ("91350100M000100Y4S", None),  # S for 5 is not what was meant here: no suggestion
    ],
)
def test_typing_slips_are_reported_with_a_suggestion_but_not_fixed(typed, meant):
    err = _error(typed)
    assert err.code == "invalid_character"
    assert err.suggestion == meant


def test_slip_suggestion_for_z_and_s():
    code = uscc.make("9", "1", "520000", "22222555")
    typed = code[:8] + "ZZZZZSSS" + code[16:]
    err = _error(typed)
    assert err.suggestion == code


@pytest.mark.parametrize("authority", ["0", "B", "C", "H", "W", "X"])
def test_an_unknown_registration_authority_is_refused_at_position_1(authority):
    code = authority + "1110000600037341L"
    err = _error(code)
    assert isinstance(err, InvalidComponent)
    assert err.code == "invalid_authority" and err.position == 1
    assert "Position 1" in str(err)


@pytest.mark.parametrize(
    ("authority", "category"),
    [
        ("9", "4"),
        ("9", "0"),
        ("1", "4"),
        ("5", "6"),
        ("Y", "2"),
        ("A", "2"),
        ("2", "2"),
        ("4", "2"),
        ("N", "4"),
    ],
)
def test_a_category_the_authority_does_not_have_is_refused_at_position_2(authority, category):
    err = _error(f"{authority}{category}110000600037341L")
    assert err.code == "invalid_authority_category" and err.position == 2
    assert "Position 2" in str(err) and repr(authority) in str(err)


@pytest.mark.parametrize(
    ("authority", "categories"),
    [
        ("1", "1239"),
        ("2", "19"),
        ("3", "1234569"),
        ("4", "19"),
        ("5", "1234559"),
        ("6", "129"),
        ("7", "129"),
        ("8", "129"),
        ("9", "1239"),
        ("A", "19"),
        ("N", "1239"),
        ("Y", "1"),
        ("G", "19"),
        ("J", "19"),
        ("Q", "1239"),
    ],
)
def test_every_authority_category_pair_of_the_table_is_accepted(authority, categories):
    for category in categories:
        assert uscc.is_valid(uscc.make(authority, category, "510700", "60003734"))


@pytest.mark.parametrize("division", ["510703", "510700", "510000", "100000", "110105", "320594", "460400"])
def test_county_city_province_national_and_development_zone_divisions_are_accepted(division):
    assert uscc.division(uscc.make("9", "1", division, "MA6CR7W2")) == division


@pytest.mark.parametrize("division", ["519999", "990000", "000000", "515100", "123456", "510069"])
def test_an_unknown_division_is_refused_at_position_3(division):
    first17 = f"91{division}600037341"
    err = _error(first17 + uscc.calc_check_digit(first17))
    assert err.code == "unknown_division" and err.position == 3
    assert division in str(err) and "GB/T 2260" in str(err)


def test_a_letter_in_the_division_is_refused_as_a_bad_character():
    err = _error("915107A0600037341L")
    assert err.code == "invalid_character" and err.position == 7


def test_a_wrong_organisation_code_check_is_refused_at_position_17_even_with_a_right_uscc_check():
    first17 = "91110000600037342"  # the organisation code 600037341 with a wrong check character
    code = first17 + uscc.calc_check_digit(first17)
    assert stdnum_uscc.is_valid(code)  # python-stdnum does not look at it
    err = _error(code)
    assert isinstance(err, InvalidChecksum)
    assert err.code == "invalid_org_code_checksum" and err.position == 17
    assert "GB 11714" in str(err) and "Position 17" in str(err)


def test_a_wrong_uscc_check_is_refused_at_position_18():
    err = _error("91110000600037341M")
    assert isinstance(err, InvalidChecksum)
    assert err.code == "invalid_checksum" and err.position == 18
    assert "position 18" in str(err)
    assert err.suggestion is None


def test_the_placeholder_alone_requires_a_registration_number():
    assert uscc.is_placeholder("00000000000000000x")
    assert not uscc.is_placeholder("91110000600037341L")
    err = _error("0000 0000 0000 0000 0X")
    assert err.code == "placeholder_requires_reg_no"
    assert "工商注册号" in str(err)
    assert not uscc.is_valid("00000000000000000X")


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_stdnum_rejects_letter_authorities_that_we_accept(authority):
    code = uscc.make(authority, "1", "510700", "60003734")
    assert uscc.validate(code) == code
    assert not stdnum_uscc.is_valid(code)


def test_calc_check_digit_matches_a_real_code():
    assert uscc.calc_check_digit("91350100M000100Y4") == "3"
    assert uscc.calc_check_digit("91110000600037341") == "L"


def test_calc_check_digit_refuses_characters_outside_the_alphabet():
    with pytest.raises(InvalidFormat):
        uscc.calc_check_digit("9135010OM000100Y4")


def test_org_code_and_division_are_read_from_a_valid_code():
    assert uscc.org_code("91350100M000100Y43") == "M000100Y4"
    assert uscc.division("91350100M000100Y43") == "350100"
    with pytest.raises(IdentifierError):
        uscc.org_code("91350100M000100Y44")


def test_make_refuses_parts_that_cannot_form_a_code():
    with pytest.raises(IdentifierError) as info:
        uscc.make("B", "1", "510700", "60003734")
    assert info.value.code == "invalid_authority"
    with pytest.raises(IdentifierError):
        uscc.make("9", "1", "510700", "6000373")
    with pytest.raises(IdentifierError):
        uscc.make("9", "1", "5107000", "60003734")


def test_format_is_the_compact_form():
    assert uscc.format(" 91350100-m000100y43 ") == "91350100M000100Y43"


def test_errors_are_value_errors_that_survive_pickling():
    err = _error("9135O100M000100Y43")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.code, copy.position, copy.suggestion, copy.field, str(copy)) == (
        type(err),
        err.code,
        err.position,
        err.suggestion,
        err.field,
        str(err),
    )


def test_authority_names():
    assert uscc.authority_name("9") == "工商"
    assert uscc.authority_name("N") == "农业"
    assert uscc.authority_name("B") is None
