"""Administrative division codes 行政区划代码 (GB/T 2260) as used inside identifiers.

A division code has six digits: two for the province (省级), two for the prefecture-level
city (地级) and two for the county-level unit (县级); ``510000`` is 四川省, ``510700`` 绵阳市,
``510703`` 涪城区. Identifiers carry the code of the registration authority (USCC positions
3-8, 工商注册号 positions 1-6) or of the place of first registration (身份证号 positions 1-6).

The list of codes is python-stdnum's ``stdnum/cn/loc.dat`` (taken from the GB/T 2260 tables
on Wikipedia), including codes that were abolished later: an identifier keeps the code it
was issued under for life, so a code that *ever* existed is accepted. On top of it:

* ``100000`` is accepted for national (central) registration authorities, as GB 32100-2015
  prescribes ("国家用100000");
* a province-level (``XX0000``) or city-level (``XXYY00``) code is accepted whenever the
  province or city exists;
* county parts 70-99 under a known city are accepted: registration authorities of
  development zones and other functional areas (开发区、功能区) use codes that are not in
  GB/T 2260 — real USCCs of the 苏州工业园区 start ``91320594`` — and the statistical division
  codes (统计用区划代码) number such areas 71-79.

>>> is_known('510703'), is_known('510700'), is_known('510000'), is_known('100000')
(True, True, True, True)
>>> is_known('320594'), is_known('519999'), is_known('990000'), is_known('51070')
(True, False, False, False)
>>> name('510703')
'涪城区'
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

NATIONAL = "100000"
_FUNCTIONAL_AREAS = range(70, 100)


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Map each six-digit code to its most recent name, read once from stdnum's data file."""
    codes: dict[str, str] = {}
    province = ""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, props = line.strip().partition(" ")
        match = re.search(r'(?:province|county)="([^"]*)"', props)
        label = match.group(1) if match else ""
        # "[1983-1990]东城区,[1990-]..." -> the last name listed
        label = re.sub(r"\[[^\]]*\]", "", label.split(",")[-1])
        if line[0].isdigit():
            province = key
            codes.setdefault(province + "0000", label)
        else:
            codes[province + key] = label
    return codes


@lru_cache(maxsize=4096)
def is_known(code: str) -> bool:
    """Whether `code` is a division code a registration or ID number may carry."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    if code == NATIONAL:
        return True
    table = _table()
    if code in table:
        return True
    province, city, county = code[:2], code[2:4], code[4:]
    if province + "0000" not in table:
        return False
    city_known = any(c.startswith(province + city) for c in table)
    if county == "00":
        return city_known
    return city_known and city != "00" and int(county) in _FUNCTIONAL_AREAS


def listed() -> frozenset[str]:
    """Every code listed in GB/T 2260 (as shipped by python-stdnum), plus ``100000``."""
    return frozenset(_table()) | {NATIONAL}


def name(code: str) -> str | None:
    """The (latest) name of a division listed in GB/T 2260, or None."""
    if code == NATIONAL:
        return "全国"
    return _table().get(code)
