"""USCC 统一社会信用代码 (unified social credit code, GB 32100-2015).

Since 2015 every legal person and other organisation in China carries one 18-character code
for life (国发〔2015〕33号); the gateway keys every market subject by it (docs/policy.md §1). The
characters are digits and capital letters except I, O, Z, S and V, which are too easily
confused with 1, 0, 2, 5 and U. The parts:

=========  ===========================  ==========================================================
position   part                         meaning
=========  ===========================  ==========================================================
1          登记管理部门代码               registration authority: 9 工商 (market regulation), 5 民政 …
2          机构类别代码                   organisation category, which depends on the authority
3-8        登记管理机关行政区划码          division code (GB/T 2260) of the registration authority
9-17       主体标识码 (组织机构代码)        the organisation code of GB 11714, with its own check at 17
18         校验码                        check character over positions 1-17
=========  ===========================  ==========================================================

Authorities and their categories (table "登记管理部门代码和机构类别代码" published with
GB 32100-2015, as reproduced by the 国家标准委 and CODS explanations of the standard):

===  ===============================  =====================================================
1    机构编制                          1 机关, 2 事业单位, 3 中央编办直接管理机构编制的群众团体, 9 其他
2    外交                              1 外国常驻新闻机构, 9 其他
3    司法行政                          1 律师执业机构, 2 公证处, 3 基层法律服务所, 4 司法鉴定机构,
                                       5 仲裁委员会, 9 其他
4    文化                              1 外国在华文化中心, 9 其他
5    民政                              1 社会团体, 2 民办非企业单位, 3 基金会, 9 其他
6    旅游                              1 外国旅游部门常驻代表机构, 2 港澳台地区旅游部门常驻内地(大陆)代表机构, 9 其他
7    宗教                              1 宗教活动场所, 2 宗教院校, 9 其他
8    工会                              1 基层工会, 9 其他
9    工商 (now 市场监管)                1 企业, 2 个体工商户, 3 农民专业合作社
A    中央军委改革和编制办公室             1 军队事业单位, 9 其他
N    农业                              1 组级集体经济组织, 2 村级集体经济组织, 3 乡镇级集体经济组织, 9 其他
Y    其他                              1 (no further categories)
===  ===============================  =====================================================

Codes assigned after the standard and seen on real certificates are accepted too (they are
kept apart in `LATER_CATEGORIES` so they can be reviewed): 36 商事调解组织, 54 村民委员会,
55 居民委员会 (基层群众性自治组织特别法人), 82 非法人工会组织, 99 其他 (市场监管), and the
authorities G 公安 (境外非政府组织代表机构), J 住房城乡建设 (业主大会) and Q 侨联.

The division code is checked against GB/T 2260 (see `divisions`); ``100000`` stands for a
national registration authority. The organisation code (positions 9-17) must carry a correct
GB 11714 check character at position 17 (see `orgcode`).

The check character (GB 32100-2015 §4, after GB/T 17710 / ISO 7064): with the alphabet
``0123456789ABCDEFGHJKLMNPQRTUWXY`` (values 0-30) and the weights 3^(i-1) mod 31 —
1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 — the check value is
``31 - (Σ value × weight mod 31)``, taken mod 31. Because 31 is prime and no weight is 0,
every single-character substitution changes the sum and is caught.

个体工商户 registered before 2015 may still show the placeholder ``00000000000000000X``
instead of a code; it identifies nobody, so it is only accepted together with the 工商注册号
(see `subject.identify`); `validate` of the placeholder alone raises
``placeholder_requires_reg_no``.

python-stdnum's ``stdnum.cn.uscc`` rejects the letter authorities (``A``, ``N``, ``Y``) and
checks neither the authority/category pair, the division nor the embedded organisation code;
this module does all four.

More information:

* GB 32100-2015 法人和其他组织统一社会信用代码编码规则
* GB 11714-1997 全国组织机构代码编制规则
* https://zh.wikipedia.org/wiki/统一社会信用代码

>>> validate('91350100M000100Y43')
'91350100M000100Y43'
>>> validate('９１１１００００６０００３７３４１ｌ')
'91110000600037341L'
>>> org_code('91110000600037341L'), division('91110000600037341L')
('600037341', '110000')
>>> make('N', '2', '510703', '60003734')
'N2510703600037341E'
>>> validate('91110000600037341M')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidChecksum: The USCC check character (position 18) 'M' does not match positions 1-17 (GB 32100-2015, mod 31); a character was probably mistyped.
>>> validate('9135O100M000100Y43')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidFormat: Character 5 of the USCC is 'O', which GB 32100-2015 does not use: a USCC is made of digits and capital letters other than I, O, Z, S and V.
>>> try:
...     validate('9135O100M000100Y43')
... except IdentifierError as err:
...     print(err.code, err.position, err.suggestion)
invalid_character 5 91350100M000100Y43
>>> validate('94110000600037341L')
Traceback (most recent call last):
    ...
gateway.domain.identifiers.errors.InvalidComponent: Position 2 (organisation category 机构类别代码) is '4', which is not a category of registration authority '9' (工商); allowed: 1, 2, 3, 9.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import mul

from gateway.domain.identifiers import divisions, orgcode
from gateway.domain.identifiers._text import checked_with_suggestion, clean, passes
from gateway.domain.identifiers.errors import (  # IdentifierError: the doctests catch it
    IdentifierError,  # noqa: F401
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)

FIELD = "uscc"
LENGTH = 18
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PLACEHOLDER = "00000000000000000X"

# Registration authority -> (name, {category: name}); GB 32100-2015.
CATEGORIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}

# Assigned after GB 32100-2015 and found on certificates in use; accepted, kept apart for review.
LATER_CATEGORIES: dict[str, tuple[str, dict[str, str]]] = {
    "3": ("司法行政", {"6": "商事调解组织"}),
    "5": ("民政", {"4": "村民委员会", "5": "居民委员会"}),
    "8": ("工会", {"2": "非法人工会组织"}),
    "9": ("市场监管", {"9": "其他"}),
    "G": ("公安", {"1": "境外非政府组织代表机构", "9": "其他"}),
    "J": ("住房城乡建设", {"1": "业主大会", "9": "其他"}),
    "Q": ("侨联", {"1": "区县级侨联组织", "2": "乡镇级侨联组织", "3": "村级侨联组织", "9": "其他"}),
}


def _allowed_categories(authority: str) -> dict[str, str]:
    allowed = dict(CATEGORIES.get(authority, ("", {}))[1])
    allowed.update(LATER_CATEGORIES.get(authority, ("", {}))[1])
    return allowed


def authority_name(authority: str) -> str | None:
    """The name of a registration authority code (``'9'`` → ``'工商'``), or None."""
    entry = CATEGORIES.get(authority) or LATER_CATEGORIES.get(authority)
    return entry[0] if entry else None


def compact(number: str) -> str:
    """Return the code half-width, upper-case, without spaces, dashes or invisible characters."""
    return clean(number)


def is_placeholder(number: str) -> bool:
    """Whether the code is the 个体工商户 placeholder ``00000000000000000X``."""
    return compact(number) == PLACEHOLDER


_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def calc_check_digit(number: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    number = compact(number)[:17]
    if len(number) != 17 or any(c not in ALPHABET for c in number):
        raise InvalidFormat(
            "The USCC check character is computed over 17 characters from the USCC alphabet.", field=FIELD
        )
    return _check_character(number)


def _check_character(body: str) -> str:
    # the sum of value x weight over 17 characters known to be of the alphabet; map() over
    # the tables, not a generator: a third of an uncached identification
    return ALPHABET[(31 - sum(map(mul, map(_VALUE.__getitem__, body), WEIGHTS)) % 31) % 31]


# 18 characters of the alphabet
_ALPHABET_ONLY = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")


def _check(number: str) -> str:
    """Raise the first rule `number` (compact) breaks, without a suggestion."""
    if not number:
        raise InvalidLength("No USCC was given.", code="empty", field=FIELD)
    if len(number) != LENGTH:
        raise InvalidLength(f"A USCC has {LENGTH} characters, this one has {len(number)}.", field=FIELD)
    if number == PLACEHOLDER:
        raise InvalidComponent(
            f"{PLACEHOLDER} is the placeholder shown for 个体工商户 without a USCC; "
            "it identifies a subject only together with its 15-digit 工商注册号.",
            code="placeholder_requires_reg_no",
            field=FIELD,
        )
    if _ALPHABET_ONLY.fullmatch(number) is None:  # the common case skips the loop naming the bad character
        for position, char in enumerate(number, start=1):
            if char not in ALPHABET:
                raise InvalidFormat(
                    f"Character {position} of the USCC is {char!r}, which GB 32100-2015 does not use: "
                    "a USCC is made of digits and capital letters other than I, O, Z, S and V.",
                    position=position,
                    field=FIELD,
                )
    authority, category = number[0], number[1]
    allowed = _allowed_categories(authority)
    if not allowed:
        known = ", ".join(list(CATEGORIES) + list(LATER_CATEGORIES.keys() - CATEGORIES.keys()))
        raise InvalidComponent(
            f"Position 1 (registration authority 登记管理部门代码) is {authority!r}, which is not an "
            f"authority code of GB 32100-2015 (known: {known}).",
            code="invalid_authority",
            position=1,
            field=FIELD,
        )
    if category not in allowed:
        raise InvalidComponent(
            f"Position 2 (organisation category 机构类别代码) is {category!r}, which is not a category of "
            f"registration authority {authority!r} ({authority_name(authority)}); "
            f"allowed: {', '.join(sorted(allowed))}.",
            code="invalid_authority_category",
            position=2,
            field=FIELD,
        )
    if not number[2:8].isdigit():  # (ASCII digits: every character is of the alphabet by now)
        for position in range(3, 9):
            if not number[position - 1].isdigit():
                raise InvalidFormat(
                    f"Character {position} of the USCC is {number[position - 1]!r}; positions 3-8 are the "
                    "division code of the registration authority and hold digits only.",
                    position=position,
                    field=FIELD,
                )
    if not divisions.is_known(number[2:8]):
        raise InvalidComponent(
            f"Positions 3-8 ({number[2:8]}) are not a known administrative division code (GB/T 2260) "
            "of a registration authority.",
            code="unknown_division",
            position=3,
            field=FIELD,
        )
    if number[16] != orgcode.calc_check_digit(number[8:16]):
        raise InvalidChecksum(
            f"Position 17 {number[16]!r}, the check character of the embedded organisation code "
            "(positions 9-17, GB 11714), does not match positions 9-16; a character was probably mistyped.",
            code="invalid_org_code_checksum",
            position=17,
            field=FIELD,
        )
    if number[17] != _check_character(number[:17]):
        raise InvalidChecksum(
            f"The USCC check character (position 18) {number[17]!r} does not match positions 1-17 "
            "(GB 32100-2015, mod 31); a character was probably mistyped.",
            position=18,
            field=FIELD,
        )
    return number


@lru_cache(maxsize=65536)
def validate(number: str) -> str:
    """Return the compact USCC or raise an `IdentifierError` naming the broken rule and position.

    Pure, so valid answers are cached (a failure raises afresh each time, never cached): a
    file names the same issuing authority on every row and the same subjects again and again."""
    number = compact(number)
    # no suggestion for the placeholder: it is a valid code that needs its 注册号
    return checked_with_suggestion(_check, number, suggest=number != PLACEHOLDER)


def is_valid(number: str) -> bool:
    """Whether the code is a valid USCC (the placeholder is not)."""
    return passes(_check, compact(number))


def format(number: str) -> str:
    """The printed form, which is the compact form."""
    return compact(number)


def org_code(number: str) -> str:
    """The organisation code (GB 11714) embedded at positions 9-17 of a valid USCC."""
    return validate(number)[8:17]


def division(number: str) -> str:
    """The division code (GB/T 2260) of the registration authority, positions 3-8 of a valid USCC."""
    return validate(number)[2:8]


def make(authority: str, category: str, division: str, org_code_8: str) -> str:
    """Build a valid USCC from its parts, computing both check characters.

    Raises `IdentifierError` when a part is not acceptable (unknown authority, division …).
    """
    body = compact(org_code_8)
    if len(body) != 8:
        raise InvalidLength("The organisation code body has 8 characters.", field=FIELD)
    first17 = f"{authority}{category}{division}{body}{orgcode.calc_check_digit(body)}"
    if len(first17) != 17 or any(c not in ALPHABET for c in first17):
        raise InvalidFormat(f"{first17!r} cannot be the first 17 characters of a USCC.", field=FIELD)
    return validate(first17 + calc_check_digit(first17))
