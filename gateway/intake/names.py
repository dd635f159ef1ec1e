"""Names: which record field each header an agency may use means, and the names of coded values.

The tables are data (``aliases/headers.yaml``): the 2021 双公示 codes and Chinese names, the
2016 template's codes, the API's English names. Headers are compared by `key` (NFKC, without
spaces, ``_``, ``-``, ``、``, ``:`` and the templates' ``*``, case-insensitive). `suggest_header`
finds the known header an unknown one probably meant; `header_for` names a field's column as
the templates head it.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from gateway.domain.records import KIND_MODELS, RecordKind


def _type_of(annotation: Any) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is Decimal:
        return "decimal"
    if annotation is dt.date:
        return "date"
    if typing.get_origin(annotation) is list:
        return "list"
    return "text"


FIELD_TYPES: dict[str, dict[str, str]] = {
    kind.value: {name: _type_of(info.annotation) for name, info in model.model_fields.items()}
    for kind, model in KIND_MODELS.items()
}

# --- names ------------------------------------------------------------------------------

# The header and value alias tables are data: aliases/headers.yaml.
ALIASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "aliases" / "headers.yaml").read_text("utf-8"))


def _names(table: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """{value: "alias alias ..."} of one YAML table (the form `_table` reads)."""
    return {str(value): " ".join(str(a).replace(" ", "") for a in aliases) for value, aliases in table.items()}


_GENERIC_NAMES: dict[str, str] = _names(ALIASES["generic"])
_KIND_NAMES: dict[str, dict[str, str]] = {kind: _names(fields) for kind, fields in ALIASES["kinds"].items()}
_KIND_VALUES_NAMES: dict[str, str] = _names(ALIASES["values"]["kind"])
_ACTION_NAMES = _names(ALIASES["values"]["action"])
_PERSON_ROLE_NAMES = _names(ALIASES["values"]["person_role"])

_STRIP_CHARS = re.compile(r"[\s_\-、*:：]+")
_BRACKETS = re.compile(r"[(\[【〔<《]([^)\]】〕>》]*)[)\]】〕>》]")


def key(text: str) -> str:
    """The comparison key of a header or code value."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    return _STRIP_CHARS.sub("", text).lower()


def _table(names: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, aliases in names.items():
        for alias in (value, *aliases.split()):
            k = key(alias)
            if out.setdefault(k, value) != value:
                raise AssertionError(f"header {alias!r} means both {out[k]} and {value}")
    return out


_GENERIC = _table(_GENERIC_NAMES)
_BY_KIND: dict[str, dict[str, str]] = {}  # header key -> {kind: field}
for _kind, _fields in FIELD_TYPES.items():
    for _k, _field in _table({f: _KIND_NAMES.get(_kind, {}).get(f, "") for f in _fields}).items():
        _BY_KIND.setdefault(_k, {})[_kind] = _field
# A CF_* / XK_* code names its kind.
_IMPLIES = {
    key(f): kind for kind in ("penalty", "licence") for f in FIELD_TYPES[kind] if f[:3] in ("CF_", "XK_")
}

# Known columns deliberately not read, fields several columns fill, the 2016 template's reading.
_IGNORED = frozenset(key(h) for h in ALIASES.get("ignored", ()))
JOINED = {(kind, f) for kind, fields in ALIASES.get("joined", {}).items() for f in fields}
_LEGACY = ALIASES["legacy_2016"]
_LEGACY_MARKERS = frozenset(key(h) for h in _LEGACY["markers"])
_LEGACY_STATUS_COLUMNS = frozenset(key(h) for h in _LEGACY["status_columns"])
_LEGACY_STATUS = {key(str(v)): a for v, a in _LEGACY["status_values"].items()}
_LEGACY_DEFAULTS: dict[str, dict[str, str]] = _LEGACY.get("defaults", {})

KIND_VALUES = _table(_KIND_VALUES_NAMES)
ACTION_VALUES = _table(_ACTION_NAMES)
_VALUE_ALIASES: dict[tuple[str, str], dict[str, str]] = {
    ("violation", "person_role"): _table(_PERSON_ROLE_NAMES),
    ("commitment", "committer_role"): _table(_PERSON_ROLE_NAMES),
    ("licence", "XK_ZT"): {"有效": "1", "无效": "2"},
}
assert set(KIND_VALUES.values()) == {k.value for k in RecordKind}


def kind_of(value: str) -> str | None:
    """The record kind a cell or parameter names (English code or Chinese name), if any."""
    return KIND_VALUES.get(key(value))


# --- what a clerk probably meant ----------------------------------------------------------

_HEADER_SPELLINGS: dict[str, str] = {}  # comparison key -> the spelling to suggest
for _value, _aliases in (*_GENERIC_NAMES.items(), *(i for t in _KIND_NAMES.values() for i in t.items())):
    for _alias in (_value.rpartition(".")[2], *_aliases.split()):
        _HEADER_SPELLINGS.setdefault(key(_alias), _alias)


def suggest_header(header: str) -> str | None:
    """The known header closest to an unknown one (行政处罚决定文号 → 行政处罚决定书文号), if any is close."""
    import difflib

    match = difflib.get_close_matches(key(header), list(_HEADER_SPELLINGS), n=1, cutoff=0.75)
    return _HEADER_SPELLINGS[match[0]] if match else None


def header_for(kind: str | None, path: str) -> str:
    """The template's header of a record field path (data.CF_JDRQ → 处罚决定日期)."""
    section, _, name = path.rpartition(".")
    if section == "data" and kind:
        aliases = _KIND_NAMES.get(kind, {}).get(name, "").split()
        return aliases[0] if aliases else name
    aliases = _GENERIC_NAMES.get(path, "").split()
    chinese = [a for a in aliases if not a.isascii()]
    return chinese[0] if chinese else path

