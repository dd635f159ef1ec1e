"""Identifiers of market subjects and persons, per the Chinese standards.

One module per identifier, each with the verbs ``compact``, ``validate``, ``is_valid`` and
``format`` (after python-stdnum):

* `uscc` — 统一社会信用代码, GB 32100-2015 (the key of every credit file);
* `orgcode` — 组织机构代码, GB 11714 (positions 9-17 of the USCC);
* `regno` — 工商注册号, GS 15-2006 (15 digits, ISO 7064 MOD 11,10);
* `idcard` — 居民身份证号码, GB 11643 (responsible persons), with `idcard.mask`;
* `divisions` — 行政区划代码, GB/T 2260, as they appear inside identifiers;
* `names` — `normalize_name` for subject names;
* `subject` — `identify` and `parse_key`: from identifiers to the key of a credit file.

Failures raise `IdentifierError` subclasses carrying a stable ``code``, the 1-based
``position``, the ``field`` at fault and, for the usual typing slips, a ``suggestion``.
This package is pure: no I/O beyond reading python-stdnum's bundled division table.
"""

from __future__ import annotations

from gateway.domain.identifiers import divisions, errors, idcard, names, orgcode, regno, subject, uscc
from gateway.domain.identifiers.errors import (
    IdentifierError,
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from gateway.domain.identifiers.names import normalize_name
from gateway.domain.identifiers.subject import SubjectIdentity, format_key, identify, parse_key

__all__ = [
    "IdentifierError",
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "SubjectIdentity",
    "divisions",
    "errors",
    "format_key",
    "idcard",
    "identify",
    "names",
    "normalize_name",
    "orgcode",
    "parse_key",
    "regno",
    "subject",
    "uscc",
]
