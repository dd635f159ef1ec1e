"""Column mapping: which record field an agency's column means, and how a cell becomes a value.

Agencies name their columns three ways, and all three are accepted:

* the 2021 双公示 code (``CF_XDR_MC``, ``XK_WSH`` ...): these also imply the kind
  (``CF_*`` → penalty 行政处罚, ``XK_*`` → licence 行政许可);
* the Chinese name from the standard templates (行政相对人名称, 罚款金额(万元) ...);
* the API's English names (``source_record_id``, ``occurred_on``, ``deaths`` ...).

Headers are compared after NFKC (full-width letters and brackets become half-width) with
spaces, ``_``, ``-``, ``、`` and a leading ``*`` (the templates' "required" mark) removed.
Bracketed notes such as units or formats are dropped, and the bracket text is tried as a
name too, so ``行政相对人代码_1（统一社会信用代码）`` maps. An amount column headed in
元 rather than 万元 is converted (exactly, by Decimal) to 万元.

Cells become JSON values only where the reading is unambiguous: Excel numbers in integer
columns become ints, dates become ISO strings, 是/否 become booleans. Anything else goes on
as text, so `validate_data` reports every bad field of a row at once with the API's reason
codes. Only cells that cannot be read at all (Excel error values such as ``#N/A``, a
time of day in a date column) are row problems here.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from openpyxl.utils.datetime import from_excel

from gateway.domain.records import KIND_MODELS, RecordKind

Problem = tuple[int, str, str, str]  # row, field, reason, message
Coercer = Callable[[Any], Any]

SUBJECT_KEYS = ("uscc", "name", "org_code", "reg_no", "id_number")

# The 双公示 kinds carry their subject in the data fields; the record's subject mirrors them.
SUBJECT_FIELDS: dict[str, dict[str, str]] = {
    "penalty": {
        "uscc": "CF_XDR_SHXYM",
        "name": "CF_XDR_MC",
        "reg_no": "CF_XDR_GSZC",
        "org_code": "CF_XDR_ZZJG",
        "id_number": "CF_XDR_ZJHM",
    },
    "licence": {
        "uscc": "XK_XDR_SHXYM",
        "name": "XK_XDR_MC",
        "reg_no": "XK_XDR_GSZC",
        "org_code": "XK_XDR_ZZJG",
    },
}
# Without an explicit source record id, the decision document number identifies the record.
DOCUMENT_NUMBER = {"penalty": "CF_WSH", "licence": "XK_WSH"}
# The deciding authority's name and code: an agency's file may leave them to its registration.
ISSUER_FIELDS = {"penalty": ("CF_CFJG", "CF_CFJGDM"), "licence": ("XK_XKJG", "XK_XKJGDM")}


class CellError(ValueError):
    """A cell that cannot be read as any value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- field types, from the record models ------------------------------------------------


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
_BOOLS = {
    "是": True, "否": False, "true": True, "false": False, "1": True, "0": False,
    "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
}  # fmt: skip
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA"}
)

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


# --- cells ------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_INT = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LIST_SPLIT = re.compile(r"[;；,，、|\n]")
_WAN = Decimal("0.0001")  # 元 -> 万元


def text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _int(value: Any) -> Any:
    if isinstance(value, int):  # bool included: validation says it is not a number
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        s = value.replace(",", "") if _THOUSANDS.match(value) else value
        return int(s.split(".")[0]) if _INT.match(s) else value
    return text(value)


def _decimal(value: Any, scale: Decimal | None = None) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str):
        s = value.replace(",", "") if _THOUSANDS.match(value) else value
        try:
            number = Decimal(s)
        except InvalidOperation:
            return value
    else:
        return text(value)
    if not number.is_finite():
        return value
    if scale is not None:
        number *= scale
    return format(number.normalize(), "f")


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        raise CellError("bad_date", f"{value.isoformat()} is a time of day, not a date")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            value = str(int(value))  # 20250103 typed as a number
        elif 1 <= value < 2958466:  # an Excel serial day number without a date format
            return from_excel(value).date().isoformat()
        else:
            return value
    if isinstance(value, str):
        m = _DATE.match(value) or _COMPACT_DATE.match(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return value  # validate_data says which date is impossible
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        b = _BOOLS.get(value.lower())
        return value if b is None else b
    return value


def _list(value: Any) -> Any:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [p.strip() for p in _LIST_SPLIT.split(value) if p.strip()]
    return [text(value)]


def _action(value: Any) -> str:
    action = ACTION_VALUES.get(key(text(value)))
    if action is None:
        raise CellError("not_in_code_list", f"action {value!r} is not publish (发布) or withdraw (撤回)")
    return action


def _legacy_status(value: Any) -> str:
    action = _LEGACY_STATUS.get(key(text(value)))
    if action is None:
        raise CellError("not_in_code_list", f"status {value!r} is not 0 正常, 1 撤销, 2 异议 or 3 其他")
    return action


def coercer(kind: str, field: str, scale: Decimal | None = None) -> Coercer:
    """How a cell becomes the value of `field` of a record of `kind`."""
    kind_type = FIELD_TYPES.get(kind, {}).get(field, "text")
    if kind_type == "decimal":
        return (lambda v: _decimal(v, scale)) if scale is not None else _decimal
    if kind_type == "text" and (aliases := _VALUE_ALIASES.get((kind, field))):
        return lambda v: aliases.get(key(t), t) if isinstance(t := text(v), str) else t
    return {"int": _int, "date": _date, "bool": _bool, "list": _list}.get(kind_type, text)


def clean(value: Any) -> Any:
    """A cell without surrounding space; None when empty; CellError when unreadable."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if value in _EXCEL_ERRORS:
            raise CellError("unreadable_cell", f"the cell holds the spreadsheet error {value}")
    return value


def assemble(kind: str, top: dict[str, Any], subject: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """One record in the shape the intake API accepts."""
    subj = {k: subject.get(k) for k in SUBJECT_KEYS}
    action = top.get("action", "publish")
    for k, field in SUBJECT_FIELDS.get(kind, {}).items():
        if subj[k] is None and field in data:
            subj[k] = data[field]
        elif subj[k] is not None and field not in data and action == "publish":
            data[field] = subj[k]
    source_id = top.get("source_record_id")
    if source_id is None and kind in DOCUMENT_NUMBER:
        source_id = data.get(DOCUMENT_NUMBER[kind])
    record = {
        "kind": kind,
        "source_record_id": source_id,
        "action": action,
        "subject": subj,
        "region": top.get("region"),
        "data": data,
    }
    if "reason" in top:
        record["reason"] = top["reason"]
    return record


# --- headers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str
    generic: str | None  # "source_record_id", "subject.uscc" ...
    fields: Mapping[str, str]  # kind -> data field
    scale: Decimal | None = None
    legacy_status: bool = False  # the 2016 template's 当前状态: publish or withdraw


def resolve(header: str) -> tuple[str | None, dict[str, str], Decimal | None, str | None]:
    """What a header means: (generic target, {kind: field}, amount scale, kind its code implies)."""
    normal = unicodedata.normalize("NFKC", header)
    inner = _BRACKETS.findall(normal)
    candidates = [key(c) for c in (_BRACKETS.sub("", normal), *inner)]
    # A 双公示 code, even in brackets after the Chinese name, is the most precise name.
    candidates.sort(key=lambda k: k not in _IMPLIES)
    for k in candidates:
        if k in _IGNORED:
            return "ignored", {}, None, None
        generic, fields = _GENERIC.get(k), _BY_KIND.get(k, {})
        if generic or fields:
            units = {key(u) for u in inner}
            amounts = any(FIELD_TYPES[kd][f] == "decimal" for kd, f in fields.items())
            scale = _WAN if amounts and "元" in units and "万元" not in units else None
            return generic, dict(fields), scale, _IMPLIES.get(k)
    return None, {}, None, None


class Layout:
    """The columns of one table (the header row), and how each row becomes a record."""

    def __init__(self, headers: Sequence[Any], header_row: int = 1) -> None:
        self.header_row = header_row
        self.columns: list[Column] = []
        self.problems: list[Problem] = []
        self.kind_index: int | None = None
        self._blank: list[int] = []
        self._width = len(headers)
        self._plans: dict[str, list[tuple[int, str, str, str, Coercer]]] = {}
        self._reported: set[int] = set()
        taken: set[tuple[str, ...]] = set()
        implied: set[str] = set()
        votes: Counter[str] = Counter()
        names = [text(raw).strip() if raw is not None else "" for raw in headers]
        self.headers = names  # as headed in the file, by position
        self.legacy_2016 = any(key(n) in _LEGACY_MARKERS for n in names)
        for index, name in enumerate(names):
            if not name:
                self._blank.append(index)
                continue
            if self.legacy_2016 and key(name) in _LEGACY_STATUS_COLUMNS:
                if ("action",) not in taken:
                    taken.add(("action",))
                    self.columns.append(Column(index, name, "action", {}, legacy_status=True))
                continue
            generic, fields, scale, implies = resolve(name)
            if generic == "ignored":
                continue
            if generic is None and not fields:
                self.problems.append(
                    (
                        header_row,
                        name,
                        "unknown_column",
                        f"column {name!r} is not a known field; its cells are ignored",
                    )
                )
                continue
            targets = {(generic,)} if generic else set()
            targets |= {(kd, f) for kd, f in fields.items()}
            if taken & targets - JOINED:
                self.problems.append(
                    (
                        header_row,
                        name,
                        "duplicate_column",
                        f"column {name!r} repeats an earlier column; it is ignored",
                    )
                )
                continue
            taken |= targets
            if generic == "kind":
                self.kind_index = index
                continue
            self.columns.append(Column(index, name, generic, fields, scale))
            if implies is not None:
                implied.add(implies)
            if generic is None and len(fields) == 1:
                votes[next(iter(fields))] += 1
        self.implied_kind = implied.pop() if len(implied) == 1 else None
        ranked = votes.most_common(2)
        self.inferred_kind = (
            ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else None
        )

    def plan(self, kind: str) -> list[tuple[int, str, str, str, Coercer]]:
        """(cell index, header, section, name, coercer) for each column, for rows of `kind`."""
        plan = self._plans.get(kind)
        if plan is None:
            plan = []
            for col in self.columns:
                if kind in col.fields:
                    field = col.fields[kind]
                    plan.append((col.index, col.header, "data", field, coercer(kind, field, col.scale)))
                elif col.legacy_status:
                    plan.append((col.index, col.header, "top", "action", _legacy_status))
                elif col.generic:
                    section, _, name = col.generic.rpartition(".")
                    plan.append(
                        (col.index, col.header, section or "top", name, _action if name == "action" else text)
                    )
                else:  # a field of another kind: passed on so validation names it for this row
                    plan.append((col.index, col.header, "data", next(iter(col.fields.values())), text))
            self._plans[kind] = plan
        return plan

    def build(
        self, row: int, cells: Sequence[Any], default_kind: str | None
    ) -> tuple[dict | None, list[Problem]]:
        """The record of one data row, or the problems that stop it becoming one."""
        problems: list[Problem] = []
        n = len(cells)
        if n > self._width or self._blank:
            self._check_unnamed(cells)
        kind = None
        if self.kind_index is not None and self.kind_index < n:
            try:
                raw = clean(cells[self.kind_index])
            except CellError as exc:
                return None, [(row, "kind", exc.reason, str(exc))]
            if raw is not None:
                kind = kind_of(text(raw))
                if kind is None:
                    return None, [
                        (
                            row,
                            "kind",
                            "unknown_kind",
                            f"unknown record kind {raw!r}; one of {', '.join(RecordKind)}",
                        )
                    ]
        kind = kind or self.implied_kind or default_kind or self.inferred_kind
        if kind is None:
            return None, [
                (
                    row,
                    "kind",
                    "missing_kind",
                    "the row does not say which kind of record it is (add a 记录类型 / kind column)",
                )
            ]
        sections: dict[str, dict[str, Any]] = {"top": {}, "subject": {}, "data": {}}
        for index, header, section, name, coerce in self.plan(kind):
            if index >= n or (value := cells[index]) is None:
                continue
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    continue
                if value[0] == "#" and value in _EXCEL_ERRORS:
                    problems.append(
                        (row, header, "unreadable_cell", f"the cell holds the spreadsheet error {value}")
                    )
                    continue
                if coerce is text:  # the common case: text stays text
                    if name in sections[section] and (kind, name) in JOINED:
                        value = f"{sections[section][name]}；{value}"
                    sections[section][name] = value
                    continue
            try:
                sections[section][name] = coerce(value)
            except CellError as exc:
                problems.append((row, header, exc.reason, str(exc)))
        if problems:
            return None, problems
        if self.legacy_2016:
            data = sections["data"]
            for target, source in _LEGACY_DEFAULTS.get(kind, {}).items():
                if target not in data and source in data:
                    data[target] = data[source]
        return assemble(kind, sections["top"], sections["subject"], sections["data"]), []

    def _check_unnamed(self, cells: Sequence[Any]) -> None:
        for index in (*self._blank, *range(self._width, len(cells))):
            if index < len(cells) and index not in self._reported and clean_or_none(cells[index]) is not None:
                self._reported.add(index)
                self.problems.append(
                    (
                        self.header_row,
                        f"column {index + 1}",
                        "unnamed_column",
                        f"column {index + 1} has values but no header; they are ignored",
                    )
                )


def clean_or_none(value: Any) -> Any:
    try:
        return clean(value)
    except CellError:
        return "#"


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


def _known(headers: Sequence[Any]) -> int:
    count = 0
    for raw in headers:
        name = text(raw).strip() if raw is not None else ""
        if name:
            generic, fields, _, _ = resolve(name)
            count += bool(generic or fields)
    return count


def two_row_header(first: Sequence[Any], second: Sequence[Any]) -> list[Any] | None:
    """The header of a sheet whose header spans two rows, or None when the first row is the header.

    Agencies' sheets often group columns under a merged title cell (行政相对人信息 over 名称,
    代码 …) or put a title row above the header; a field headed on two rows (备注 merged down)
    keeps its first-row text. The two rows are one header when they name more fields together
    than the first row alone.
    """
    width = max(len(first), len(second))
    merged = []
    for i in range(width):
        lower = second[i] if i < len(second) else None
        upper = first[i] if i < len(first) else None
        lower_text = text(lower).strip() if lower is not None else ""
        merged.append(lower if lower_text else upper)
    return merged if _known(merged) > _known(first) else None
