"""Import templates: one XLSX per record kind, headed as the gateway reads it.

`GET /v1/templates/{kind}.xlsx` and `gateway template KIND` give the same workbook:

* the kind's sheet (named 行政处罚, 行政许可 …, so the import finds it), one column per field in
  the records model's order, headed ``中文名(CODE)`` — the Chinese name agencies know and the
  双公示 code (or field name) that makes the header unambiguous; required columns start with
  ``*`` and are shaded; each header carries a comment saying what goes in it;
* drop-down lists on the coded columns (处罚类别, 行政相对人类别, 许可类别, accident grades,
  violation cases, 是/否 …) from the hidden sheet 代码表; the lists warn, they do not refuse, so
  a combination such as ``罚款；警告`` can still be typed;
* an example row on its own sheet 示例, which the import never reads.

Code and identifier columns are text cells, so Excel keeps an all-digit USCC as typed. The
lists for text columns are data (``aliases/code_lists.yaml``); those of coded fields come from
the records model itself.
"""

from __future__ import annotations

import enum
import io
import typing
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gateway.domain.records import ACCIDENT_GRADE_ALIASES, KIND_MODELS, RecordKind
from gateway.intake.columns import ALIASES, SUBJECT_FIELDS, header_for
from gateway.intake.report_xlsx import XLSX_TYPE

__all__ = ["XLSX_TYPE", "UnknownKind", "columns", "workbook"]

LISTS: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "aliases" / "code_lists.yaml").read_text("utf-8"))
ROWS = 5000  # rows the drop-down lists and text formats cover
_REQUIRED = PatternFill("solid", fgColor="FFF2CC")
_SHEET_NAMES = {
    "commitment": "安全生产承诺", "licence": "行政许可", "penalty": "行政处罚", "accident": "生产安全事故",
    "violation": "失信行为", "standardization_grade": "安全生产标准化等级", "integrity_score": "诚信考评得分",
    "integrity_report": "诚信报告",
}  # fmt: skip
_ENUM_NAMES = {"grade": list(ACCIDENT_GRADE_ALIASES)}  # accident grades by their Chinese names


class UnknownKind(ValueError):
    pass


def _chinese(kind: str, path: str) -> str:
    header = header_for(kind, path)
    return header if header != path.rpartition(".")[2] else ""


def _choices(kind: str, field: str, annotation: Any) -> list[str] | None:
    listed = LISTS.get(kind, {}).get(field)
    if listed:
        return [str(v) for v in listed]
    if kind == "accident" and field in _ENUM_NAMES:
        return _ENUM_NAMES[field]
    if kind == "standardization_grade" and field == "grade":
        return ["一级", "二级", "三级"]
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    for arg in args:
        if arg is bool:
            return ["是", "否"]
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            names = ALIASES["values"].get(field, {})
            return [str((names.get(m.value) or [m.value])[0]) for m in arg]
    return None


def columns(kind: str) -> list[tuple[str, str, bool, list[str] | None]]:
    """(header, path, required, drop-down values) of each column of the kind's template."""
    try:
        model = KIND_MODELS[RecordKind(kind)]
    except ValueError:
        raise UnknownKind(f"unknown record kind {kind!r}; one of {', '.join(RecordKind)}") from None
    out: list[tuple[str, str, bool, list[str] | None]] = []
    if kind not in SUBJECT_FIELDS:  # the 双公示 kinds carry their id and subject in their own fields
        out.append(("*记录类型(kind)", "kind", True, [_SHEET_NAMES[kind]]))
        out.append(("*源记录编号(source_record_id)", "source_record_id", True, None))
        out.append(("*统一社会信用代码(uscc)", "subject.uscc", True, None))
        out.append(("主体名称(subject_name)", "subject.name", False, None))
    for name, info in model.model_fields.items():
        chinese = _chinese(kind, f"data.{name}")
        header = f"{chinese}({name})" if chinese else name
        required = info.is_required()
        out.append((("*" if required else "") + header, f"data.{name}", required,
                    _choices(kind, name, info.annotation)))
    return out


def _text_field(kind: str, path: str) -> bool:
    name = path.rpartition(".")[2]
    model = KIND_MODELS[RecordKind(kind)]
    info = model.model_fields.get(name)
    return info is None or str in (typing.get_args(info.annotation) or (info.annotation,)) or (
        name.endswith(("DM", "SHXYM", "GSZC", "ZZJG", "SWDJ", "SYDW", "SHZZ", "ZJHM", "WSH")))


def workbook(kind: str) -> bytes:
    """The import template of `kind` as XLSX bytes. Raises UnknownKind."""
    cols = columns(kind)
    wb = Workbook()
    sheet = wb.active
    sheet.title = _SHEET_NAMES[kind]
    lists = wb.create_sheet("代码表")
    example = wb.create_sheet("示例")
    examples = LISTS.get("examples", {}).get(kind, {})
    list_column = 0
    for number, (header, path, required, choices) in enumerate(cols, start=1):
        letter = get_column_letter(number)
        for target in (sheet, example):
            cell = target.cell(1, number, header)
            cell.font = Font(bold=True)
            if required:
                cell.fill = _REQUIRED
            target.column_dimensions[letter].width = max(12, min(40, len(header) * 2))
        code = path.rpartition(".")[2]
        note = ("必填。" if required else "选填。") + f"字段代码 {code}。"
        if choices:
            note += "可从下拉列表选择：" + "、".join(choices[:12]) + ("……" if len(choices) > 12 else "")
        sheet.cell(1, number).comment = Comment(note, "gateway", width=260, height=90)
        if _text_field(kind, path) and path != "kind":
            sheet.column_dimensions[letter].number_format = "@"  # the column's default: text
        if choices:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(1, list_column, code)
            for i, value in enumerate(choices, start=2):
                lists.cell(i, list_column, value)
            rule = DataValidation(type="list", formula1=f"'代码表'!${list_letter}$2:${list_letter}${len(choices) + 1}",
                                  allow_blank=True, errorStyle="warning", showErrorMessage=True,
                                  errorTitle="不在代码表中", error="该值不在代码表中；确认无误可继续填写。")
            rule.add(f"{letter}2:{letter}{ROWS + 1}")
            sheet.add_data_validation(rule)
        value = examples.get(path.removeprefix("data.")) if path.startswith("data.") else examples.get(path)
        if path == "kind":
            value = _SHEET_NAMES[kind]
        if value is not None:
            cell = example.cell(2, number, str(value))
            cell.number_format = "@"
    lists.sheet_state = "hidden"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
