"""Properties of the identifier modules, checked with Hypothesis."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.domain.identifiers import (
    IdentifierError,
    divisions,
    format_key,
    idcard,
    normalize_name,
    orgcode,
    parse_key,
    regno,
    uscc,
)
from gateway.domain.identifiers._text import SLIPS

PAIRS = sorted(
    {
        (a, c)
        for table in (uscc.CATEGORIES, uscc.LATER_CATEGORIES)
        for a, (_, cats) in table.items()
        for c in cats
    }
)
DIVISIONS = sorted(divisions.listed())
# Characters a changed position may receive: the USCC alphabet, the letters it leaves out,
# and some punctuation. Lower-case letters are left out: they are the same character after compact().
CHANGES = uscc.ALPHABET + "IOZSV#.*/_+@"


@st.composite
def valid_usccs(draw) -> str:
    authority, category = draw(st.sampled_from(PAIRS))
    division = draw(st.sampled_from(DIVISIONS))
    body = draw(st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8))
    return uscc.make(authority, category, division, body)


@st.composite
def usccs_built_by_hand(draw) -> str:
    """Built from the two check algorithms directly, not through make()."""
    authority, category = draw(st.sampled_from(PAIRS))
    division = draw(st.sampled_from(DIVISIONS))
    body = draw(st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8))
    first17 = authority + category + division + body + orgcode.calc_check_digit(body)
    return first17 + uscc.calc_check_digit(first17)


@st.composite
def valid_regnos(draw) -> str:
    division = draw(st.sampled_from(DIVISIONS))
    body = division + draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    return body + regno.calc_check_digit(body)


@st.composite
def valid_id_numbers(draw) -> str:
    division = draw(st.sampled_from(DIVISIONS))
    born = draw(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2099, 12, 31)))
    body = division + born.strftime("%Y%m%d") + draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return body + idcard.calc_check_digit(body)


separators = st.sampled_from(
    [" ", "\u3000", "-", "\u2014", "\u2013", "\uff0d", "\u200b", "\ufeff", "\u2060", "\t"]
)


@st.composite
def as_typed(draw, code: str) -> str:
    """The code as a person may paste it: separators anywhere, some characters full-width or lower-case."""
    out = []
    for char in code:
        out.extend(draw(st.lists(separators, max_size=2)))
        style = draw(st.sampled_from(["plain", "full-width", "lower"]))
        if style == "full-width":
            char = chr(ord(char) + 0xFEE0)
        elif style == "lower":
            char = char.lower()
        out.append(char)
    return "".join(out)


@given(st.text())
def test_compact_twice_equals_once(text):
    once = uscc.compact(text)
    assert uscc.compact(once) == once


@given(st.text())
def test_normalize_name_twice_equals_once(text):
    once = normalize_name(text)
    assert normalize_name(once) == once


@given(valid_usccs())
def test_every_code_built_by_make_validates(code):
    assert uscc.validate(code) == code
    assert orgcode.validate(uscc.org_code(code)) == code[8:17]


@given(usccs_built_by_hand())
def test_every_code_built_with_both_check_algorithms_validates(code):
    assert uscc.validate(code) == code


@given(valid_usccs().flatmap(lambda code: st.tuples(st.just(code), as_typed(code))))
def test_a_valid_code_however_typed_validates_to_itself(pair):
    code, typed = pair
    assert uscc.validate(typed) == code


@settings(max_examples=300)
@given(valid_usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(CHANGES))
def test_every_single_character_change_of_a_valid_uscc_is_caught(code, index, char):
    assume(code[index] != char)
    changed = code[:index] + char + code[index + 1 :]
    try:
        uscc.validate(changed)
    except IdentifierError as err:
        assert err.field == "uscc"
        assert err.message
    else:
        # Only possible if neither check character can see the change; for a single
        # substitution the mod-31 check always can (31 is prime, no weight is 0).
        pytest.fail(f"{changed} (from {code}, character {index + 1} changed to {char!r}) passed validation")


@given(valid_usccs(), st.sets(st.integers(min_value=0, max_value=17), min_size=1))
def test_slipped_letters_are_caught_and_the_real_code_suggested(code, indexes):
    back = {digit: letter for letter, digit in SLIPS.items()}
    slipped = "".join(back.get(c, c) if i in indexes else c for i, c in enumerate(code))
    assume(slipped != code)
    with pytest.raises(IdentifierError) as info:
        uscc.validate(slipped)
    assert info.value.code == "invalid_character"
    assert info.value.suggestion == code


@given(st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8), st.integers(0, 8), st.sampled_from(CHANGES))
def test_a_single_change_of_an_organisation_code_is_caught_or_is_a_known_mod_11_blind_spot(body, index, char):
    code = body + orgcode.calc_check_digit(body)
    assume(code[index] != char)
    changed = code[:index] + char + code[index + 1 :]
    if orgcode.is_valid(changed):
        # GB 11714 cannot see a body character replaced by one whose value differs by 11 or 22
        value = orgcode._value
        assert index < 8 and (value(char) - value(code[index])) % 11 == 0, changed
        # ... but inside a USCC the USCC's own check character sees it
        first17 = "91110000" + code
        assert not uscc.is_valid(first17[:8] + changed + uscc.calc_check_digit(first17))


@given(valid_regnos(), st.integers(0, 14), st.sampled_from("0123456789OIA"))
def test_every_single_change_of_a_registration_number_is_caught(number, index, char):
    assume(number[index] != char)
    with pytest.raises(IdentifierError):
        regno.validate(number[:index] + char + number[index + 1 :])


@given(valid_id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_every_single_change_of_an_id_number_is_caught(number, index, char):
    assume(number[index] != char)
    assert idcard.validate(number) == number
    with pytest.raises(IdentifierError):
        idcard.validate(number[:index] + char + number[index + 1 :])


@given(valid_usccs())
def test_parse_key_reads_back_every_key(code):
    for key in (code, format_key("org", code[8:17]), format_key("org", orgcode.format(code[8:17]))):
        scheme, value = parse_key(key)
        assert scheme in ("uscc", "org")
        assert value in (code, code[8:17])


@given(st.one_of(st.text(), st.integers(), st.none(), st.binary()))
def test_mask_never_raises_and_never_shows_the_middle(value):
    masked = idcard.mask(value)
    if len(masked) >= 15:
        assert set(masked[6:-4]) == {"*"}
    else:
        assert set(masked) <= {"*"}


@given(st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17))
def test_the_uscc_check_character_is_the_standards_formula(first17):
    # GB 32100-2015 §4 written out: weights 3^(i-1) mod 31, check value (31 - sum mod 31) mod 31
    total = sum(uscc.ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert uscc.calc_check_digit(first17) == uscc.ALPHABET[(31 - total % 31) % 31]


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8))
def test_the_organisation_code_check_character_is_the_standards_formula(body):
    # GB 11714-1997: digits their value, A-Z 10-35, weights 3 7 9 10 5 8 4 2, 11 - sum mod 11 (10 X, 11 0)
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    assert orgcode.calc_check_digit(body) == {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
