"""Who a record is about: one key per market subject or person (docs/policy.md §1).

Agencies send whatever identifiers they hold; `identify` turns them into a `SubjectIdentity`
whose ``key`` files the record in one credit file:

==================================================  ====================  =====================
identifiers given                                   key                   category
==================================================  ====================  =====================
a valid USCC (统一社会信用代码)                        the USCC              legal_person, or
                                                                          individual_business
                                                                          for category 92
the 个体工商户 placeholder ``00000000000000000X``      ``reg:<注册号>``       individual_business
and a valid 工商注册号
only an organisation code (组织机构代码)                ``org:<code>``        legal_person
only a 工商注册号                                      ``reg:<注册号>``       by its 7th digit
only a 居民身份证号码                                   ``person:<number>``   natural_person
==================================================  ====================  =====================

An ``org:`` key is provisional: the store links it to the USCC that embeds the organisation
code (positions 9-17) once that USCC is seen. Identifiers given alongside the one that makes
the key are validated too, and an organisation code that contradicts the USCC is refused
(``org_code_mismatch``) rather than silently dropped. An ID number given together with an
organisation's identifier belongs to its responsible person: it is validated but does not
change whose record it is. Every error carries ``field``, the identifier at fault.

`parse_key` reads what a user may type in a URL path: a USCC, an organisation code with or
without its hyphen, a 工商注册号, or a key with its scheme prefix.

>>> identify(uscc='91350100M000100Y43')
SubjectIdentity(key='91350100M000100Y43', uscc='91350100M000100Y43', org_code='M000100Y4', reg_no=None, category='legal_person')
>>> identify(uscc='00000000000000000X', reg_no='510703600000127').key
'reg:510703600000127'
>>> identify(org_code='60003734-1').key
'org:600037341'
>>> parse_key('60003734-1'), parse_key('reg:440301103097413')
(('org', '600037341'), ('reg', '440301103097413'))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from gateway.domain.identifiers import idcard, orgcode, regno
from gateway.domain.identifiers import uscc as uscc_module
from gateway.domain.identifiers._text import clean
from gateway.domain.identifiers.errors import IdentifierError, InvalidComponent, InvalidFormat, InvalidLength

Category = Literal["legal_person", "individual_business", "natural_person"]
SCHEMES = ("uscc", "org", "reg", "person")


@dataclass(frozen=True)
class SubjectIdentity:
    """The key of a credit file and the identifiers known for it."""

    key: str
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    category: Category = "legal_person"


def format_key(scheme: str, value: str) -> str:
    """The key for a scheme and a normalised value: the bare USCC, else ``scheme:value``."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown key scheme {scheme!r}")
    return value if scheme == "uscc" else f"{scheme}:{value}"


def _given(value: object) -> str | None:
    """The compact text of an identifier, or None when it is absent or blank."""
    if value is None:
        return None
    text = clean(value if isinstance(value, str) else str(value))
    return text or None


def _reg_category(reg_no: str) -> Category:
    return "individual_business" if reg_no[6] in "6789" else "legal_person"


def identify(
    uscc: str | None = None,
    org_code: str | None = None,
    reg_no: str | None = None,
    id_number: str | None = None,
) -> SubjectIdentity:
    """The identity of the subject these identifiers name; raises `IdentifierError` (with ``field``).

    Pure, so answers are cached: a batch names the same subjects again and again.
    """
    return _identify(uscc, org_code, reg_no, id_number)


@lru_cache(maxsize=65536)
def _identify(
    uscc: str | None = None,
    org_code: str | None = None,
    reg_no: str | None = None,
    id_number: str | None = None,
) -> SubjectIdentity:
    """The identity of the subject these identifiers name; raises `IdentifierError` (with ``field``)."""
    uscc_text, org_text, reg_text, id_text = _given(uscc), _given(org_code), _given(reg_no), _given(id_number)

    if uscc_text is not None and uscc_module.is_placeholder(uscc_text):
        if reg_text is None:
            raise InvalidComponent(
                f"The USCC {uscc_module.PLACEHOLDER} is the placeholder of a 个体工商户 without a code; "
                "send its 15-digit 工商注册号 with it.",
                code="placeholder_requires_reg_no",
                field="uscc",
            )
        reg = regno.validate(reg_text)
        org = orgcode.validate(org_text) if org_text else None
        _check_person(id_text)
        return SubjectIdentity(
            key=format_key("reg", reg), org_code=org, reg_no=reg, category="individual_business"
        )

    code = uscc_module.validate(uscc_text) if uscc_text is not None else None
    org = orgcode.validate(org_text) if org_text is not None else None
    reg = regno.validate(reg_text) if reg_text is not None else None

    if code is not None:
        embedded = code[8:17]
        if org is not None and org != embedded:
            raise InvalidComponent(
                f"The organisation code {orgcode.format(org)} is not the one embedded in the USCC {code} "
                f"(positions 9-17: {orgcode.format(embedded)}).",
                code="org_code_mismatch",
                field="org_code",
            )
        _check_person(id_text)
        category: Category = "individual_business" if code[:2] == "92" else "legal_person"
        return SubjectIdentity(key=code, uscc=code, org_code=embedded, reg_no=reg, category=category)
    if org is not None:
        _check_person(id_text)
        return SubjectIdentity(key=format_key("org", org), org_code=org, reg_no=reg, category="legal_person")
    if reg is not None:
        _check_person(id_text)
        return SubjectIdentity(key=format_key("reg", reg), reg_no=reg, category=_reg_category(reg))
    if id_text is not None:
        person = idcard.validate(id_text)
        return SubjectIdentity(key=format_key("person", person), category="natural_person")
    raise InvalidLength(
        "No identifier was given: send a USCC, an organisation code, a 工商注册号 or an ID number.",
        code="empty",
    )


def _check_person(id_text: str | None) -> None:
    if id_text is not None:
        idcard.validate(id_text)


_VALIDATORS = {
    "uscc": uscc_module.validate,
    "org": orgcode.validate,
    "reg": regno.validate,
    "person": idcard.validate,
}


def parse_key(text: str) -> tuple[str, str]:
    """Read a subject key as typed in a URL path; returns ``(scheme, normalised value)``.

    Accepted: a USCC, an organisation code (with or without its hyphen), a 工商注册号, or a
    prefixed key ``uscc:…``, ``org:…``, ``reg:…``, ``person:…`` (the prefix in any case; an ID
    number only with its prefix, so it is never mistaken for a USCC).
    """
    raw = text.replace("：", ":")
    if ":" in raw:
        prefix, _, value = raw.partition(":")
        scheme = clean(prefix).lower()
        if scheme not in _VALIDATORS:
            raise InvalidFormat(
                f"{prefix.strip()!r} is not a key scheme; use one of {', '.join(SCHEMES)} "
                "or give the identifier without a prefix.",
                position=len(prefix) + 1,
            )
        return scheme, _VALIDATORS[scheme](value)
    value = clean(raw)
    if len(value) == uscc_module.LENGTH:
        try:
            return "uscc", uscc_module.validate(value)
        except IdentifierError as err:
            if idcard.is_valid(value):
                err.message = (
                    f"{err.message} It looks like a 居民身份证号码, which is written person:<number>."
                )
                err.args = (err.message,)
                err.suggestion = format_key("person", value)
            raise
    if len(value) == orgcode.LENGTH:
        return "org", orgcode.validate(value)
    if len(value) == regno.LENGTH:
        return "reg", regno.validate(value)
    if not value:
        raise InvalidLength("No subject key was given.", code="empty")
    raise InvalidLength(
        f"{value!r} has {len(value)} characters; a subject key is a USCC (18), an organisation code (9), "
        "a 工商注册号 (15) or a prefixed key such as person:<ID number>."
    )


__all__ = ["Category", "SCHEMES", "SubjectIdentity", "format_key", "identify", "parse_key"]
