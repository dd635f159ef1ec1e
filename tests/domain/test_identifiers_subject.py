"""identify and parse_key: from the identifiers an agency sends to the key of a credit file."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.domain.identifiers import IdentifierError, SubjectIdentity, format_key, identify, parse_key, uscc

USCC = "91350100M000100Y43"
ORG = "M000100Y4"
REG = "440301103097413"
REG_INDIVIDUAL = "510703600000127"
PERSON = "11010519491231002X"


def _error(**kwargs) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        identify(**kwargs)
    return info.value


def test_a_valid_uscc_is_the_key_and_gives_the_organisation_code():
    identity = identify(uscc=" 9135 0100 m000 100y 43 ")
    assert identity == SubjectIdentity(
        key=USCC, uscc=USCC, org_code=ORG, reg_no=None, category="legal_person"
    )


def test_a_uscc_keeps_a_registration_number_sent_with_it():
    assert identify(uscc=USCC, reg_no=REG).reg_no == REG


def test_an_individual_business_uscc_has_that_category():
    code = uscc.make("9", "2", "510703", "MA6CR7W2")
    assert identify(uscc=code).category == "individual_business"


def test_the_placeholder_with_a_registration_number_is_keyed_by_the_registration_number():
    identity = identify(uscc="00000000000000000X", reg_no=REG_INDIVIDUAL)
    assert identity.key == f"reg:{REG_INDIVIDUAL}"
    assert identity.category == "individual_business"
    assert identity.uscc is None and identity.reg_no == REG_INDIVIDUAL


def test_the_placeholder_without_a_registration_number_is_refused():
    err = _error(uscc="00000000000000000X")
    assert err.code == "placeholder_requires_reg_no" and err.field == "uscc"
    err = _error(uscc="00000000000000000x", reg_no="  ")
    assert err.code == "placeholder_requires_reg_no"


def test_the_placeholder_with_an_invalid_registration_number_blames_the_registration_number():
    err = _error(uscc="00000000000000000X", reg_no="440301103097414")
    assert err.code == "invalid_checksum" and err.field == "reg_no"


def test_only_an_organisation_code_gives_an_org_key():
    identity = identify(org_code="M000100Y-4")
    assert identity == SubjectIdentity(key=f"org:{ORG}", org_code=ORG, category="legal_person")


def test_only_a_registration_number_gives_a_reg_key_with_the_category_of_its_seventh_digit():
    assert identify(reg_no=REG) == SubjectIdentity(key=f"reg:{REG}", reg_no=REG, category="legal_person")
    assert identify(reg_no=REG_INDIVIDUAL).category == "individual_business"


def test_an_organisation_code_and_registration_number_are_keyed_by_the_organisation_code():
    identity = identify(org_code=ORG, reg_no=REG)
    assert identity.key == f"org:{ORG}" and identity.reg_no == REG


def test_only_an_id_number_gives_a_person_key():
    identity = identify(id_number="110105 19491231 002x")
    assert identity == SubjectIdentity(key=f"person:{PERSON}", category="natural_person")


def test_an_id_number_sent_with_a_uscc_does_not_change_the_subject_but_is_checked():
    assert identify(uscc=USCC, id_number=PERSON).key == USCC
    err = _error(uscc=USCC, id_number="110105194912310021")
    assert err.field == "id_number" and err.code == "invalid_checksum"


def test_an_organisation_code_contradicting_the_uscc_is_refused():
    err = _error(uscc=USCC, org_code="600037341")
    assert err.code == "org_code_mismatch" and err.field == "org_code"
    assert identify(uscc=USCC, org_code="M000100Y-4").key == USCC


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"uscc": "91350100M000100Y44"}, "uscc", "invalid_checksum"),
        ({"org_code": "M000100Y5"}, "org_code", "invalid_checksum"),
        ({"reg_no": "44030110309741"}, "reg_no", "invalid_length"),
        ({"id_number": "11010519490230002X"}, "id_number", "invalid_birth_date"),
        ({"uscc": USCC, "reg_no": "440301103097414"}, "reg_no", "invalid_checksum"),
    ],
)
def test_errors_name_the_identifier_at_fault(kwargs, field, code):
    err = _error(**kwargs)
    assert (err.field, err.code) == (field, code)


def test_nothing_given_is_refused_as_empty():
    assert _error().code == "empty"
    assert _error(uscc="", org_code=" ", reg_no="\u3000", id_number=None).code == "empty"


def test_subject_identity_is_frozen():
    identity = identify(uscc=USCC)
    with pytest.raises(dataclasses.FrozenInstanceError):
        identity.key = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        (USCC, ("uscc", USCC)),
        ("9135 0100 m000100y43", ("uscc", USCC)),
        ("M000100Y-4", ("org", ORG)),
        ("m000100y4", ("org", ORG)),
        (REG, ("reg", REG)),
        (f"org:{ORG}", ("org", ORG)),
        ("ORG:M000100Y-4", ("org", ORG)),
        (f"reg:{REG}", ("reg", REG)),
        (f"reg：{REG}", ("reg", REG)),
        (f"person:{PERSON.lower()}", ("person", PERSON)),
        (f"uscc:{USCC}", ("uscc", USCC)),
    ],
)
def test_parse_key_accepts_what_a_user_may_type(typed, parsed):
    assert parse_key(typed) == parsed


def test_parse_key_round_trips_the_keys_identify_makes():
    for kwargs in ({"uscc": USCC}, {"org_code": ORG}, {"reg_no": REG}, {"id_number": PERSON}):
        key = identify(**kwargs).key
        assert format_key(*parse_key(key)) == key


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("12345", "invalid_length"),
        ("00000000000000000X", "placeholder_requires_reg_no"),
        ("foo:123", "invalid_character"),
        ("org:M000100Y5", "invalid_checksum"),
    ],
)
def test_parse_key_refuses_the_rest(typed, code):
    with pytest.raises(IdentifierError) as info:
        parse_key(typed)
    assert info.value.code == code


def test_an_unprefixed_id_number_is_not_taken_for_a_uscc_but_the_prefix_is_suggested():
    with pytest.raises(IdentifierError) as info:
        parse_key(PERSON)
    assert info.value.field == "uscc"
    assert info.value.suggestion == f"person:{PERSON}"
    assert "person:" in str(info.value)


def test_format_key_refuses_unknown_schemes():
    with pytest.raises(ValueError):
        format_key("tax", "1")
