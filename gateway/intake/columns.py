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
from typing import Any

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
DOCUMENT_NUMBER = {"penalty": "CF_XZCFJDSWH", "licence": "XK_WSH"}


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

# Each name table maps a value to its other names, space-separated.
_GENERIC_NAMES: dict[str, str] = {
    "kind": "kind record_kind 记录类型 信息类型 数据类型",
    "source_record_id": "source_record_id 源记录编号 数据编号 记录编号 源数据编号",
    "action": "action 操作 操作类型",
    "reason": "reason 原因 撤回原因 撤回理由 撤销原因",
    "region": "region 行政区划 行政区划代码 区划代码 地区 所属地区",
    "subject.uscc": "uscc 统一社会信用代码 社会信用代码",
    "subject.name": "subject_name name 主体名称 单位名称 企业名称 生产经营单位名称 行政相对人名称",
    "subject.org_code": "org_code 组织机构代码",
    "subject.reg_no": "reg_no 工商注册号 注册号",
    "subject.id_number": "id_number 身份证号 身份证号码 公民身份号码",
}


def _xdr(p: str) -> dict[str, str]:
    """行政相对人 fields shared by the penalty (CF) and licence (XK) templates."""
    return {
        f"{p}_XDR_MC": "行政相对人名称 相对人名称 当事人名称 主体名称 单位名称 企业名称",
        f"{p}_XDR_LB": "行政相对人类别 相对人类别",
        f"{p}_XDR_SHXYM": "统一社会信用代码 社会信用代码 行政相对人代码_1 行政相对人统一社会信用代码",
        f"{p}_XDR_GSZC": "工商注册号 注册号 行政相对人代码_2",
        f"{p}_XDR_ZZJG": "组织机构代码 行政相对人代码_3",
        f"{p}_FRDB": "法定代表人 法定代表人姓名",
        f"{p}_FR_ZJLX": "法定代表人证件类型",
        f"{p}_FR_ZJHM": "法定代表人证件号码 法定代表人身份证号 法定代表人身份证号码",
    }


# Chinese headers per kind and field; every field is also known by its own name.
_KIND_NAMES: dict[str, dict[str, str]] = {
    "penalty": {
        **_xdr("CF"),
        "CF_XDR_ZJLX": "证件类型 行政相对人证件类型 相对人证件类型",
        "CF_XDR_ZJHM": "证件号码 行政相对人证件号码 相对人证件号码 身份证号 身份证号码",
        "CF_XZCFJDSWH": "行政处罚决定书文号 处罚决定书文号 决定书文号 处罚文书号",
        "CF_WFXW": "违法行为类型 违法行为",
        "CF_WFSS": "违法事实 主要违法事实",
        "CF_YJ": "处罚依据",
        "CF_CFLB": "处罚类别 处罚种类",
        "CF_NR": "处罚内容",
        "CF_NR_FK": "罚款金额 罚款",
        "CF_NR_WFFF": "没收违法所得、没收非法财物的金额 没收金额 没收违法所得金额",
        "CF_NR_ZKDX": "暂扣或吊销证照名称及编号 暂扣或吊销证照名称",
        "CF_JDRQ": "处罚决定日期 决定日期 处罚日期",
        "CF_YXQ": "处罚有效期 有效期",
        "CF_GSJZQ": "公示截止期 公示截止日期",
        "CF_CFJG": "处罚机关 处罚机关名称",
        "CF_CFJGDM": "处罚机关统一社会信用代码 处罚机关代码",
        "CF_SJLY": "数据来源单位 数据来源",
        "CF_SJLYDM": "数据来源单位统一社会信用代码 数据来源单位代码",
        "BZ": "备注",
        "serious": "严重失信 是否严重失信",
    },
    "licence": {
        **_xdr("XK"),
        "XK_XKWS": "行政许可决定文书名称 许可决定文书名称 决定文书名称 文书名称",
        "XK_WSH": "行政许可决定文书号 许可决定文书号 决定文书号 文书号",
        "XK_XKLB": "许可类别",
        "XK_XKZS": "许可证书名称",
        "XK_XKBH": "许可编号 许可证编号 许可证书编号",
        "XK_NR": "许可内容",
        "XK_JDRQ": "许可决定日期 决定日期",
        "XK_YXQZ": "有效期自 许可有效期自 有效期起 有效期开始日期",
        "XK_YXQZI": "有效期至 许可有效期至 有效期止 有效期截止日期",
        "XK_XKJG": "许可机关 许可机关名称",
        "XK_XKJGDM": "许可机关统一社会信用代码 许可机关代码",
        "XK_ZT": "当前状态 状态",
        "XK_LYDW": "数据来源单位 数据来源",
        "XK_LYDWDM": "数据来源单位统一社会信用代码 数据来源单位代码",
        "BZ": "备注",
    },
    "accident": {
        "occurred_on": "事故发生日期 发生日期 事故日期 事故发生时间",
        "grade": "事故等级 事故级别",
        "deaths": "死亡人数",
        "injuries": "受伤人数",
        "responsibility": "责任事故 是否责任事故",
        "egregious": "性质恶劣 是否性质恶劣 性质恶劣社会影响较大",
        "occupational_disease_cases": "新增职业病病例 新增职业病病例数 职业病病例数",
        "description": "事故简况 事故概况 事故描述 描述 情况说明",
        "investigation_ref": "调查报告编号 调查报告文号 事故调查报告文号",
    },
    "violation": {
        "case": "失信情形 失信行为 失信行为类型 失信情形代码",
        "occurred_on": "发生日期 失信行为发生日期 行为发生日期 违法行为发生日期",
        "evidence_ref": "证据材料编号 证据编号 证据材料",
        "person_role": "人员类别 责任人员类别 人员角色",
        "person_name": "责任人员姓名 人员姓名",
        "person_id_number": "责任人员身份证号 责任人员身份证号码 人员身份证号 人员身份证号码",
        "description": "描述 情况说明 失信行为描述",
    },
    "standardization_grade": {
        "grade": "标准化等级 等级 达标等级",
        "issuer": "发证机关 评定机关 颁发单位 发证单位 公告单位",
        "year": "年度 评定年度 达标年度",
        "awarded_on": "发证日期 评定日期 颁发日期 公告日期",
        "valid_until": "有效期至 有效期截止日期",
    },
    "integrity_score": {
        "score": "考评得分 诚信考评得分 得分 分数",
        "veto_items": "否决项 否决项目",
        "year": "年度 考评年度",
    },
    "integrity_report": {
        "year": "年度 报告年度",
        "filed_on": "报送日期 提交日期 报告日期 填报日期",
        "summary": "报告摘要 摘要 报告内容",
    },
    "commitment": {
        "committer_role": "承诺人类别 承诺主体类别 承诺人角色",
        "items": "承诺事项 承诺内容",
        "committed_on": "承诺日期 承诺时间",
        "published_at": "公开位置 公开渠道 公示网址 公开网址",
        "kept": "是否履诺 履诺情况 履诺",
    },
}

_KIND_VALUES_NAMES: dict[str, str] = {
    "commitment": "承诺 安全生产承诺 履职尽责承诺",
    "licence": "license 许可 行政许可",
    "penalty": "处罚 行政处罚",
    "accident": "事故 生产安全事故",
    "violation": "失信行为",
    "standardization_grade": "标准化等级 安全生产标准化等级 标准化",
    "integrity_score": "诚信考评 诚信考评得分 考评得分",
    "integrity_report": "诚信报告",
}
_ACTION_NAMES = {
    "publish": "publish 发布 公示 新增 上报 更新 修改",
    "withdraw": "withdraw 撤回 撤销 删除",
}
_PERSON_ROLE_NAMES = {
    "unit": "单位 生产经营单位",
    "legal_representative": "法定代表人",
    "principal": "主要负责人",
    "safety_head": "分管安全负责人 分管负责人",
    "directly_responsible": "直接责任人员 直接责任人 负有直接责任的有关人员",
}
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


def resolve(header: str) -> tuple[str | None, dict[str, str], Decimal | None, str | None]:
    """What a header means: (generic target, {kind: field}, amount scale, kind its code implies)."""
    normal = unicodedata.normalize("NFKC", header)
    inner = _BRACKETS.findall(normal)
    candidates = [key(c) for c in (_BRACKETS.sub("", normal), *inner)]
    # A 双公示 code, even in brackets after the Chinese name, is the most precise name.
    candidates.sort(key=lambda k: k not in _IMPLIES)
    for k in candidates:
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
        for index, raw in enumerate(headers):
            name = text(raw).strip() if raw is not None else ""
            if not name:
                self._blank.append(index)
                continue
            generic, fields, scale, implies = resolve(name)
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
            if taken & targets:
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
                    sections[section][name] = value
                    continue
            try:
                sections[section][name] = coerce(value)
            except CellError as exc:
                problems.append((row, header, exc.reason, str(exc)))
        if problems:
            return None, problems
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
