"""居民身份证号码 (GB 11643) and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric

from gateway.domain.identifiers import IdentifierError, InvalidChecksum, InvalidComponent, idcard


def _error(number: str, **kwargs) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        idcard.validate(number, **kwargs)
    return info.value


@pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071"])
def test_numbers_from_the_standard_and_stdnum_validate(number):
    assert idcard.validate(number) == number


def test_a_lower_case_x_and_spaces_are_accepted():
    assert idcard.validate("110105 19491231 002x") == "11010519491231002X"


def test_a_person_born_before_their_county_existed_is_accepted_unlike_stdnum():
    # 涪城区 (510703) was created in 1992; a person born there in 1960 received this number later.
    number = "5107031960010112" + "3"
    number += idcard.calc_check_digit(number)
    assert idcard.validate(number) == number
    assert not ric.is_valid(number)


def test_a_wrong_check_character_is_refused_at_position_18():
    err = _error("110105194912310021")
    assert isinstance(err, InvalidChecksum)
    assert err.code == "invalid_checksum" and err.position == 18 and err.field == "id_number"


@pytest.mark.parametrize("date", ["19490230", "19491301", "18000101", "21000101", "20991231"])
def test_an_impossible_birth_date_is_refused(date):
    body = "110105" + date + "002"
    number = body + idcard.calc_check_digit(body)
    kwargs = {"today": dt.date(2025, 1, 1)} if date.startswith("2099") else {}
    err = _error(number, **kwargs)
    assert isinstance(err, InvalidComponent)
    assert err.code == "invalid_birth_date" and err.position == 7


def test_an_unknown_address_code_is_refused():
    body = "999999" + "19491231" + "002"
    err = _error(body + idcard.calc_check_digit(body))
    assert err.code == "unknown_division" and err.position == 1


def test_first_generation_15_digit_numbers_are_refused_by_length():
    err = _error("110105491231002")
    assert err.code == "invalid_length"
    assert _error("").code == "empty"


def test_only_the_last_character_may_be_x():
    err = _error("1101051949123100X2")
    assert err.code == "invalid_character" and err.position == 17


def test_an_o_for_0_slip_is_suggested():
    err = _error("11O10519491231002X")
    assert err.suggestion == "11010519491231002X"


def test_get_birth_date():
    assert idcard.get_birth_date("11010519491231002X") == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("510703196001011234", "510703********1234"),
        ("11010519491231002x", "110105********002X"),
        ("110105 1949 1231 002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
        (51070319600101123, "510703*******1123"),
        ("not an id at all, but long", "NOTANI**********LONG"),
    ],
)
def test_mask_keeps_the_first_six_and_last_four_and_never_raises(value, masked):
    assert idcard.mask(value) == masked


def test_mask_never_raises_on_odd_objects():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    assert idcard.mask(Broken()) == "*" * 18
    assert idcard.mask(b"\xff\xfe") == "*" * len(str(b"\xff\xfe").upper())
