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

The names are in `gateway.intake.names` (data: ``aliases/headers.yaml``), the reading of one
cell in `gateway.intake.cells`; this module reads a header row (`Layout`, also across two
rows) and builds each data row's record in the shape the intake API accepts.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.domain.records import RecordKind
from gateway.intake.cells import (
    _EXCEL_ERRORS,
    _WAN,
    CellError,
    Coercer,
    _action,
    _legacy_status,
    clean,
    coercer,
    text,
)
from gateway.intake.names import (
    _BRACKETS,
    _BY_KIND,
    _GENERIC,
    _IGNORED,
    _IMPLIES,
    _LEGACY_DEFAULTS,
    _LEGACY_MARKERS,
    _LEGACY_STATUS_COLUMNS,
    ALIASES,
    FIELD_TYPES,
    JOINED,
    header_for,
    key,
    kind_of,
    suggest_header,
)

__all__ = [
    "ALIASES", "DOCUMENT_NUMBER", "FIELD_TYPES", "ISSUER_FIELDS", "SUBJECT_FIELDS", "SUBJECT_KEYS", "CellError",
    "Column", "Layout", "Problem", "assemble", "clean", "coercer", "header_for", "kind_of", "resolve",
    "suggest_header", "text", "two_row_header",
]  # fmt: skip

Problem = tuple[int, str, str, str]  # row, field, reason, message

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
        self.bad_values: dict[tuple[int, str], str] = {}  # (row, header) -> the unreadable cell, for the report
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
                self.bad_values[(row, "kind")] = text(cells[self.kind_index])
                return None, [(row, "kind", exc.reason, str(exc))]
            if raw is not None:
                kind = kind_of(text(raw))
                if kind is None:
                    self.bad_values[(row, "kind")] = text(raw)
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
                    self.bad_values[(row, header)] = value
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
                self.bad_values[(row, header)] = text(value)
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

