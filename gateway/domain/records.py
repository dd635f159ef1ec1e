"""Record kinds: what agencies send (docs/policy.md §2), validated and normalised.

Eight kinds arrive from agencies:

=====================  ==========================================  =====================
kind                   content                                     event date
=====================  ==========================================  =====================
commitment             安全生产承诺 / 履职尽责承诺                      committed_on
licence                行政许可 (双公示, 2021 fields XK_*)             XK_JDRQ
penalty                行政处罚 (双公示, 2021 fields CF_*, 万元)        CF_JDRQ
accident               生产安全事故 (grade, deaths, injuries)           occurred_on
violation              失信行为 (a case code, evidence reference)      occurred_on
standardization_grade  安全生产标准化等级 (一级/二级/三级)              awarded_on
integrity_score        诚信考评得分 (0-100, veto items 否决项)          year end
integrity_report       诚信报告 (annual report filed)                 filed_on
=====================  ==========================================  =====================

Each kind is a pydantic model; `validate_data(kind, data)` returns the normalised fields or
raises `RecordInvalid` with one `FieldProblem` per bad field (field path, stable reason
code, message). The policy engine sees records only as `Record` values.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from gateway.domain.record_fields import (
    ISO_DATE,
    AgencyCode,
    Amount,
    Date,
    FieldProblem,
    OptAgencyCode,
    OptDate,
    OptText,
    RecordInvalid,
    ResponsiblePerson,
    StrList,
    Text,
    is_date_field,
    reason_for,
    std_grade,
    to_date,
)


class RecordKind(StrEnum):
    COMMITMENT = "commitment"
    LICENCE = "licence"
    PENALTY = "penalty"
    ACCIDENT = "accident"
    VIOLATION = "violation"
    STANDARDIZATION_GRADE = "standardization_grade"
    INTEGRITY_SCORE = "integrity_score"
    INTEGRITY_REPORT = "integrity_report"


class AccidentGrade(StrEnum):
    """生产安全事故等级 (《生产安全事故报告和调查处理条例》 第三条)."""

    GENERAL = "general"  # 一般
    LARGER = "larger"  # 较大
    MAJOR = "major"  # 重大
    ESPECIALLY_MAJOR = "especially_major"  # 特别重大


ACCIDENT_GRADE_ALIASES = {"一般": "general", "较大": "larger", "重大": "major", "特别重大": "especially_major"}
ACCIDENT_GRADE_ORDER = {
    AccidentGrade.GENERAL: 0,
    AccidentGrade.LARGER: 1,
    AccidentGrade.MAJOR: 2,
    AccidentGrade.ESPECIALLY_MAJOR: 3,
}


class ViolationCase(StrEnum):
    """失信行为 case codes.

    `jp_*`: the ten joint punishment cases of docs/policy.md §4 (`001` §三(一)3), in order.
    `bc_*`: the bad-credit cases of docs/policy.md §3 (`000` §三(二)) not covered by accidents.
    `nat_*`: cases only the national 2023 rules (应急管理部令第11号, docs/policy.md §10) name.
    `incentive_fraud`: fraud in obtaining the incentive list (docs/policy.md §5).
    `other_field_punishment`: listed for joint punishment in another field (docs/policy.md §5(6)).
    """

    JP_MAJOR_ACCIDENT = "jp01_accident"  # (1) 较大以上事故 / 3 fatal within 365 days (evidence case)
    JP_UNLICENSED = "jp02_unlicensed_operation"  # (2) 未取得安全生产许可
    JP_HAZARD_UNRECTIFIED = "jp03_hazard_unrectified"  # (3) 重大隐患不整改仍组织作业
    JP_OBSTRUCTING = "jp04_obstructing_supervision"  # (4) 逃避、阻挠监管
    JP_OPERATING_WHILE_STOPPED = "jp05_operating_while_stopped"  # (5) 停产整顿仍生产
    JP_ACCIDENT_CONCEALMENT = "jp06_accident_concealment"  # (6) 瞒报、谎报、迟报事故
    JP_UNACCEPTED_FACILITIES = "jp07_unaccepted_facilities"  # (7) 安全设施未验收即投用
    JP_ILLEGAL_MINING = "jp08_illegal_mining"  # (8) 超层越界开采 / 以探代采
    JP_INVESTIGATION_OBSTRUCTION = "jp09_investigation_obstruction"  # (9) 破坏现场、伪造证据、负责人逃逸
    JP_HIGHER_AUTHORITY = "jp10_higher_authority"  # (10) 上级规定的其他情形
    BC_ILLEGAL_PRODUCTION = "bc_illegal_production"  # 非法违法生产
    BC_MAJOR_HAZARD = "bc_major_hazard"  # 存在重大隐患
    BC_STANDARDIZATION_NOT_DONE = "bc_standardization_not_done"  # 未开展标准化建设
    BC_NO_HAZARD_SYSTEM = "bc_no_hazard_investigation_system"  # 未建立隐患排查治理制度
    BC_REFUSING_ORDERS = "bc_refusing_orders_or_unpaid_penalties"  # 拒不执行指令 / 不缴罚款
    BC_UNREPORTED_ACCIDENT = "bc_unreported_accident_or_no_rescue"  # 事故不报、不救援
    BC_OTHER = "bc_other"  # 其他
    NAT_FINE_MULTIPLE = "nat_fine_multiple_114"  # 安全生产法第114条 2-5 倍罚款
    NAT_FALSE_REPORT = "nat_false_evaluation_report"  # 评价机构出具虚假报告
    NAT_LICENCE_REVOKED = "nat_operating_after_licence_lost"  # 吊销许可后仍生产
    INCENTIVE_FRAUD = "incentive_fraud"  # 以虚假材料取得激励
    OTHER_FIELD_PUNISHMENT = "other_field_punishment"  # 被其他领域列为失信联合惩戒对象


class PersonRole(StrEnum):
    """Responsible persons listed with their unit (docs/policy.md §1, `001` §三(一)6)."""

    UNIT = "unit"
    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人
    PRINCIPAL = "principal"  # 主要负责人
    SAFETY_HEAD = "safety_head"  # 分管安全负责人
    DIRECTLY_RESPONSIBLE = "directly_responsible"  # 负有直接责任的有关人员


def _grade(value: Any) -> Any:
    if isinstance(value, str):
        v = value.strip()
        return ACCIDENT_GRADE_ALIASES.get(v, v.lower())
    return value



_DATE_FIELDS: dict[type, frozenset[str]] = {}


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        """Blank text counts as absent; dates may come as 2025/3/1, 20250301 or 2025年3月1日."""
        if not isinstance(data, dict):
            return data
        date_fields = _DATE_FIELDS.get(cls)
        if date_fields is None:
            date_fields = _DATE_FIELDS[cls] = frozenset(
                n for n, f in cls.model_fields.items() if is_date_field(f.annotation)
            )
        out = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
                if key in date_fields and not ISO_DATE.match(value):
                    value = to_date(value)
            elif isinstance(value, dt.datetime) and key in date_fields:
                value = value.date()
            out[key] = value
        return out

    def event_date(self) -> dt.date:
        raise NotImplementedError


class Commitment(_Kind):
    """安全生产承诺 / 履职尽责承诺 (docs/policy.md §2)."""

    committer_role: PersonRole = PersonRole.UNIT
    items: StrList = Field(min_length=1)
    committed_on: Date
    published_at: OptText = None  # where it was made public (公开承诺)
    kept: bool = True  # 履诺; an agency records a broken commitment with kept = false

    def event_date(self) -> dt.date:
        return self.committed_on


class Licence(_Kind):
    """行政许可 in the 2021 双公示 standard field set (XK_*)."""

    XK_XDR_MC: Text  # 行政相对人名称
    XK_XDR_LB: OptText = None  # 行政相对人类别
    XK_XDR_SHXYM: OptText = None  # 统一社会信用代码
    XK_XDR_GSZC: OptText = None  # 工商注册号
    XK_XDR_ZZJG: OptText = None  # 组织机构代码
    XK_XDR_SWDJ: OptText = None  # 税务登记号
    XK_XDR_SYDW: OptText = None  # 事业单位证书号
    XK_XDR_SHZZ: OptText = None  # 社会组织登记证号
    XK_FRDB: OptText = None  # 法定代表人
    XK_FR_ZJLX: OptText = None  # 法定代表人证件类型
    XK_FR_ZJHM: OptText = None  # 法定代表人证件号码
    XK_XKWS: Text  # 行政许可决定文书名称
    XK_WSH: Text  # 行政许可决定文书号
    XK_XKLB: Text  # 许可类别 (普通/特许/认可/核准/登记/其他)
    XK_XKZS: OptText = None  # 许可证书名称
    XK_XKBH: OptText = None  # 许可编号
    XK_NR: Text  # 许可内容
    XK_JDRQ: Date  # 许可决定日期
    XK_YXQZ: Date  # 有效期自
    XK_YXQZI: OptDate = None  # 有效期至
    XK_XKJG: Text  # 许可机关
    XK_XKJGDM: AgencyCode  # 许可机关统一社会信用代码
    XK_ZT: Literal["1", "2"] = "1"  # 当前状态 1 有效 2 无效
    XK_LYDW: OptText = None  # 数据来源单位
    XK_LYDWDM: OptAgencyCode = None  # 数据来源单位统一社会信用代码
    BZ: OptText = None  # 备注

    def event_date(self) -> dt.date:
        return self.XK_JDRQ


class Penalty(_Kind):
    """行政处罚 in the 2021 双公示 standard field set (CF_*); amounts in 万元."""

    CF_XDR_MC: Text  # 行政相对人名称
    CF_XDR_LB: OptText = None  # 行政相对人类别
    CF_XDR_SHXYM: OptText = None  # 统一社会信用代码
    CF_XDR_GSZC: OptText = None  # 工商注册号
    CF_XDR_ZZJG: OptText = None  # 组织机构代码
    CF_XDR_SWDJ: OptText = None  # 税务登记号
    CF_XDR_SYDW: OptText = None  # 事业单位证书号
    CF_XDR_SHZZ: OptText = None  # 社会组织登记证号
    CF_FRDB: OptText = None  # 法定代表人
    CF_FR_ZJLX: OptText = None  # 法定代表人证件类型
    CF_FR_ZJHM: OptText = None  # 法定代表人证件号码
    CF_XDR_ZJLX: OptText = None  # 证件类型 (natural person)
    CF_XDR_ZJHM: OptText = None  # 证件号码 (natural person)
    CF_WSH: Text  # 行政处罚决定书文号
    CF_WFXW: Text  # 违法行为类型
    CF_SY: Text  # 违法事实
    CF_YJ: Text  # 处罚依据
    CF_CFLB: Text  # 处罚类别 (警告/罚款/没收/责令停产停业/暂扣吊销许可证...)
    CF_NR: Text  # 处罚内容
    CF_NR_FK: Amount = None  # 罚款金额 (万元)
    CF_NR_WFFF: Amount = None  # 没收违法所得、没收非法财物的金额 (万元)
    CF_NR_ZKDX: OptText = None  # 暂扣或吊销证照名称及编号
    CF_JDRQ: Date  # 处罚决定日期
    CF_YXQ: OptDate = None  # 处罚有效期
    CF_GSJZQ: OptDate = None  # 公示截止期
    CF_CFJG: Text  # 处罚机关
    CF_CFJGDM: AgencyCode  # 处罚机关统一社会信用代码
    CF_SJLY: OptText = None  # 数据来源单位
    CF_SJLYDM: OptAgencyCode = None  # 数据来源单位统一社会信用代码
    BZ: OptText = None  # 备注
    serious: bool = False  # 严重失信 (longer publication period, docs/policy.md §8)

    def event_date(self) -> dt.date:
        return self.CF_JDRQ


class Accident(_Kind):
    """生产安全事故 attributed to the subject as responsible unit."""

    occurred_on: Date
    grade: Annotated[AccidentGrade, BeforeValidator(_grade)]
    deaths: int = Field(ge=0, le=100000)
    injuries: int = Field(default=0, ge=0, le=100000)
    responsibility: bool = True  # 责任事故
    egregious: bool = False  # 性质恶劣、社会影响较大 (blacklist case, docs/policy.md §4)
    occupational_disease_cases: int = Field(default=0, ge=0)  # 新增职业病病例
    description: OptText = None
    investigation_ref: OptText = None
    responsible_persons: tuple[ResponsiblePerson, ...] = ()  # listed with the unit (docs/policy.md §1)

    def event_date(self) -> dt.date:
        return self.occurred_on


class Violation(_Kind):
    """失信行为: one enumerated case, with the evidence reference (采集, with evidence)."""

    case: ViolationCase
    occurred_on: Date
    evidence_ref: Text
    person_role: PersonRole = PersonRole.UNIT
    person_name: OptText = None
    person_id_number: OptText = None  # 居民身份证号 (GB 11643), masked whenever shown
    description: OptText = None
    responsible_persons: tuple[ResponsiblePerson, ...] = ()  # listed with the unit (docs/policy.md §1)

    def event_date(self) -> dt.date:
        return self.occurred_on


class StandardizationGrade(_Kind):
    """安全生产标准化等级 (一级/二级/三级)."""

    grade: Annotated[int, BeforeValidator(std_grade), Field(ge=1, le=3)]
    issuer: Text
    year: int = Field(ge=2000, le=2100)
    awarded_on: OptDate = None
    valid_until: OptDate = None

    def event_date(self) -> dt.date:
        return self.awarded_on or dt.date(self.year, 1, 1)


class IntegrityScore(_Kind):
    """诚信考评得分 with veto items (否决项) (`003` §六)."""

    score: Decimal = Field(ge=0, le=100, max_digits=6, decimal_places=2)
    veto_items: StrList = Field(default_factory=list)
    year: int = Field(ge=2000, le=2100)

    def event_date(self) -> dt.date:
        return dt.date(self.year, 12, 31)


class IntegrityReport(_Kind):
    """诚信报告: the annual report was filed."""

    year: int = Field(ge=2000, le=2100)
    filed_on: Date
    summary: OptText = None

    def event_date(self) -> dt.date:
        return self.filed_on


KIND_MODELS: dict[RecordKind, type[_Kind]] = {
    RecordKind.COMMITMENT: Commitment,
    RecordKind.LICENCE: Licence,
    RecordKind.PENALTY: Penalty,
    RecordKind.ACCIDENT: Accident,
    RecordKind.VIOLATION: Violation,
    RecordKind.STANDARDIZATION_GRADE: StandardizationGrade,
    RecordKind.INTEGRITY_SCORE: IntegrityScore,
    RecordKind.INTEGRITY_REPORT: IntegrityReport,
}

# The gateway's own penalty codes before it took the platforms' (migration 0008): still accepted
# from agencies, stored under the new names.
FORMER_NAMES: dict[RecordKind, dict[str, str]] = {
    RecordKind.PENALTY: {"CF_XZCFJDSWH": "CF_WSH", "CF_WFSS": "CF_SY"},
}

# 双公示 kinds carry a publication deadline (docs/policy.md §8).
PUBLISHED_KINDS = frozenset({RecordKind.LICENCE, RecordKind.PENALTY})


def validate_data(kind: str, data: Mapping[str, Any], prefix: str = "data") -> _Kind:
    """Validate one record's kind-specific fields; raise RecordInvalid naming each bad field."""
    try:
        model = KIND_MODELS[RecordKind(kind)]
    except ValueError:
        raise RecordInvalid(
            [FieldProblem("kind", "unknown_kind", f"unknown record kind {kind!r}; one of {', '.join(RecordKind)}")]
        ) from None
    if not isinstance(data, Mapping):
        raise RecordInvalid([FieldProblem(prefix, "not_an_object", "record data must be an object")])
    data = dict(data)
    for former, name in FORMER_NAMES.get(RecordKind(kind), {}).items():
        if former in data and name not in data:
            data[name] = data.pop(former)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path = ".".join(str(p) for p in (prefix, *err["loc"]))
            ctx = err.get("ctx") or {}
            suggestion = ctx.get("suggestion")
            if err["type"] == "extra_forbidden" and err["loc"]:  # CF_JDRQI: did you mean CF_JDRQ?
                close = difflib.get_close_matches(str(err["loc"][-1]), list(model.model_fields), n=1, cutoff=0.8)
                suggestion = close[0] if close else None
            problems.append(FieldProblem(path, reason_for(err["type"]), err["msg"], suggestion, ctx.get("position")))
        raise RecordInvalid(problems) from None


def to_jsonable(model: BaseModel) -> dict[str, Any]:
    """Normalised fields as stored: dates ISO, decimals as strings, nulls dropped."""
    return model.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class Record:
    """A stored record as the policy engine sees it (current version only, unless asked)."""

    id: str
    kind: RecordKind
    subject: str  # the subject key: its USCC (or reg:<注册号> for 个体工商户 without one)
    agency: str
    event_date: dt.date
    data: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1
    status: str = "current"  # current | superseded | withdrawn
    received_at: dt.datetime | None = None
    sector: str | None = None  # the submitting agency's sector, else the subject's (docs/policy.md §8)

    @property
    def model(self) -> _Kind:
        """The typed view of `data` (dates and decimals parsed back)."""
        return KIND_MODELS[self.kind].model_validate(dict(self.data))
