"""The rejection report of an imported file: what a clerk needs to fix each row and send it again.

One line per problem: the row as the spreadsheet numbers it, the column as headed in the file,
the bad value, the stable reason code, a sentence in the clerk's language (Chinese by default,
English on request; the words are data, `report_messages.yaml`) and, where the gateway can tell,
what was probably meant (a header close to a known one, an identifier with a usual typing slip).

What the gateway derives itself is not reported: a row without a source record id takes its
decision document number, so only the missing 决定书文号 is reported, once. A required column
the file lacks altogether is one line at the header row instead of one per row.

`report_csv` writes the lines as CSV (UTF-8 with BOM, so Excel opens it); `gateway.intake.report_xlsx`
marks them in a copy of the uploaded sheet.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from gateway.intake.columns import DOCUMENT_NUMBER, SUBJECT_FIELDS, Layout, header_for, suggest_header

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
WORDS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "report_messages.yaml").read_text("utf-8"))


@dataclass(frozen=True)
class ReportLine:
    row: int
    column: str  # as headed in the file, or the template's header of a missing column
    value: str | None
    reason: str
    message: str
    suggestion: str | None = None
    column_index: int | None = None  # 0-based position in the file, None when there is no cell

    def cells(self) -> list[Any]:
        return [self.row, self.column, self.value or "", self.reason, self.message, self.suggestion or ""]


def language(value: str | None) -> Language:
    """zh or en from a `lang` parameter or an Accept-Language header (Chinese unless English is asked)."""
    text = (value or "").strip().lower()
    return "en" if text.startswith("en") else "zh"


def sentence(reason: str, lang: Language, *, column: str, value: Any, detail: str = "", code: str = "",
             suggestion: str | None = None, position: int | None = None) -> str:
    template = (WORDS["reasons"].get(reason) or WORDS["reasons"]["default"])[lang]
    where = WORDS["position"][lang].format(position=position) if position else ""
    text = template.format(column=column, value="" if value is None else value, detail=detail, code=code,
                           position=where)
    if suggestion:
        text += " " + WORDS["suggestion"][lang].format(suggestion=suggestion)
    return text


class _Columns:
    """Where each record field of a row came from: the file's column (index, header)."""

    def __init__(self, layout: Layout | None) -> None:
        self.layout = layout
        self._by_kind: dict[str, dict[str, tuple[int, str]]] = {}

    def of(self, kind: str | None, path: str) -> tuple[int, str] | None:
        if self.layout is None or kind is None:
            return None
        table = self._by_kind.get(kind)
        if table is None:
            table = {}
            for index, header, section, name, _ in self.layout.plan(kind):
                table.setdefault(name if section == "top" else f"{section}.{name}", (index, header))
            if self.layout.kind_index is not None:
                table["kind"] = (self.layout.kind_index, "kind")
            self._by_kind[kind] = table
        found = table.get(path)
        if found is None and path.startswith("subject."):  # the 双公示 kinds' subject is in 相对人 fields
            field = SUBJECT_FIELDS.get(kind, {}).get(path.removeprefix("subject."))
            found = table.get(f"data.{field}") if field else None
        return found

    def by_header(self, header: str) -> int | None:
        if self.layout is None:
            return None
        if header in self.layout.headers:
            return self.layout.headers.index(header)
        if header.startswith("column ") and header[7:].isdigit():
            return int(header[7:]) - 1
        return None


def _value(record: Mapping[str, Any] | None, path: str) -> str | None:
    if record is None:
        return None
    section, _, name = path.rpartition(".")
    holder: Any = record.get(section) if section else record
    value = holder.get(name) if isinstance(holder, Mapping) else None
    if value is None and section == "subject":
        field = SUBJECT_FIELDS.get(str(record.get("kind")), {}).get(name)
        value = (record.get("data") or {}).get(field) if field else None
    return None if value is None else str(value)


def build(
    results: Sequence[Mapping[str, Any]],
    file_problems: Sequence[Mapping[str, Any]],
    *,
    records: Mapping[int, Mapping[str, Any]],
    layout: Layout | None,
    lang: Language = "zh",
) -> list[ReportLine]:
    """The report's lines, ordered by row then column. `records`: the parsed record of each row."""
    columns = _Columns(layout)
    header_row = layout.header_row if layout is not None else 0
    lines: list[ReportLine] = []
    for p in file_problems:
        header, reason = str(p["field"]), str(p["reason"])
        value = layout.bad_values.get((p["row"], header)) if layout is not None else None
        at_header = layout is not None and p["row"] == header_row
        suggestion = suggest_header(header) if reason == "unknown_column" else None
        index = columns.by_header(header)
        if header == "kind" and layout is not None and layout.kind_index is not None:  # a row's kind cell
            index = layout.kind_index
            header = layout.headers[index]
        if not at_header and index is None:
            found = columns.of(str((records.get(p["row"]) or {}).get("kind") or ""), header)
            index = found[0] if found else None
        lines.append(ReportLine(
            p["row"], header, value, reason,
            sentence(reason, lang, column=header, value=value, detail=p["message"], suggestion=suggestion),
            suggestion, index))
    missing: dict[tuple[str, str], str] = {}
    for r in results:
        record = records.get(r["row"])
        kind = str(record.get("kind")) if record else None
        problems = r.get("problems") or []
        derived_id = record is not None and record.get("source_record_id") is None and kind in DOCUMENT_NUMBER
        for p in problems:
            path, reason = str(p["field"]), str(p["reason"])
            if derived_id and path == "source_record_id":
                continue  # the decision number it derives from is reported itself
            found = columns.of(kind, path)
            if found is None and reason == "required" and layout is not None and kind:
                missing.setdefault((kind, path), header_for(kind, path))
                continue
            index, header = found if found else (None, header_for(kind, path) if layout is not None else path)
            value = _value(record, path)
            suggestion = p.get("suggestion")
            lines.append(ReportLine(
                r["row"], header, value, reason,
                sentence(reason, lang, column=header, value=value, detail=str(p.get("message") or ""),
                         code=path.rpartition(".")[2], suggestion=suggestion, position=p.get("position")),
                suggestion, index))
    for (_kind, path), header in missing.items():
        code = path.rpartition(".")[2]
        lines.append(ReportLine(header_row, header, None, "missing_column",
                                sentence("missing_column", lang, column=header, value=None, code=code)))
    return sorted(lines, key=lambda line: (line.row, -1 if line.column_index is None else line.column_index))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    # Excel would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def report_csv(lines: Iterable[ReportLine], lang: Language = "zh") -> bytes:
    """The report as CSV, UTF-8 with BOM: 行号, 列, 错误值, 原因代码, 说明, 建议 (or the English headings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(WORDS["headings"][lang])
    for line in lines:
        writer.writerow([_safe(c) for c in line.cells()])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
