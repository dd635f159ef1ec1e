"""Policy profiles (政策配置): the rules of docs/policy.md as data.

A profile states every threshold, period, window and routing the engine applies, so a
deployment switches rules by choosing a file (`policies/municipal-2021.yaml`,
`policies/national-2023.yaml`) rather than changing code. Every entry cites its docs/policy.md
section (`rules: "§4"`) and its source document (`source: "001 §三(一)3"`); the engine copies
both into the reasons of each decision.

The sections of a profile:

=============  ==============================================================  ==========
key            what it states                                                  docs/policy.md
=============  ==============================================================  ==========
bad_credit     levels (low to high), cascade, accident and violation rules     §3
lists          joint_punishment / blacklist: cases, period, removal, implies   §4, §10
incentive      the six conditions, lookback, period, reapplication, fraud     §5
ratings        诚信等级 downgrade, star bands and veto, rectification, high   §7
supervision    tiers of 双随机 sampling with their criteria                    §7
publication    双公示 deadlines, publication periods for credit repair          §8
measures       list -> receiver sector -> measures with legal basis            §9
=============  ==============================================================  ==========

`Profile.from_mapping(data, source)` validates a parsed mapping and raises `ProfileError`
naming the file, the dotted key path and the problem. Profiles are pure values: reading
files is `gateway.policy.profiles`' job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.domain.policy.profile_publication import ProcedurePolicy, PublicationPolicy
from gateway.domain.policy.spans import _KEY, Cited, Key, Span, _Model
from gateway.domain.records import ACCIDENT_GRADE_ALIASES, AccidentGrade, PersonRole, ViolationCase

ListKind = Literal["joint_punishment", "blacklist"]
MeasureList = Literal["joint_punishment", "blacklist", "incentive", "high_rating", "key_monitoring"]
Receiver = Literal[
    "land",
    "securities",
    "finance",
    "insurance",
    "approval",
    "trading",
    "electricity",
    "safety_supervision",
    "platform",
]


class ProfileError(ValueError):
    """A profile is not usable: which file, which key, what is wrong."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path or '(top level)'}: {problem}")


def _grade_value(value: Any) -> Any:
    if isinstance(value, str):
        return ACCIDENT_GRADE_ALIASES.get(value.strip(), value.strip())
    return value


class AccidentMatch(_Model):
    """Which accidents a rule counts; every stated field must hold."""

    grades: tuple[AccidentGrade, ...] | None = None
    min_grade: AccidentGrade | None = None
    min_deaths: int = Field(0, ge=0)
    min_injuries: int = Field(0, ge=0)
    responsibility: bool | None = None  # None: responsibility does not matter
    egregious: bool | None = None

    @field_validator("grades", mode="before")
    @classmethod
    def _grades(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [_grade_value(v) for v in value]
        return value

    @field_validator("min_grade", mode="before")
    @classmethod
    def _min_grade(cls, value: Any) -> Any:
        return _grade_value(value)


class AccidentLevelRule(Cited):
    key: Key = Field(pattern=_KEY)
    level: str
    when: AccidentMatch


class ViolationLevelRule(Cited):
    key: Key = Field(pattern=_KEY)
    level: str
    codes: tuple[ViolationCase, ...] = Field(min_length=1)


class BadCreditPolicy(Cited):
    levels: tuple[str, ...] = Field(min_length=1)  # lowest first
    cascade: bool = True
    management_period: Span
    accident_levels: tuple[AccidentLevelRule, ...]
    violation_cases: tuple[ViolationLevelRule, ...] = ()


class AccidentCriterion(_Model):
    match: AccidentMatch
    count: int = Field(1, ge=1)
    window: Span | None = None  # all `count` accidents fall before first + window


class ListCase(Cited):
    key: Key = Field(pattern=_KEY)
    code: str = Field(min_length=1)
    accidents: AccidentCriterion | None = None
    violations: tuple[ViolationCase, ...] | None = None

    @model_validator(mode="after")
    def _one_criterion(self) -> ListCase:
        if (self.accidents is None) == (self.violations is None):
            raise ValueError("a case states exactly one of 'accidents' or 'violations'")
        return self


class Removal(Cited):
    window_before_expiry_working_days: int | None = Field(None, ge=1, le=250)
    early_after: Span | None = None


class ListPolicy(Cited):
    title_zh: str
    title_en: str
    period: Span
    removal: Removal
    implies: tuple[str, ...] = ()  # being on this list also puts the subject on these
    cases: tuple[ListCase, ...] = Field(min_length=1)


class Condition(Cited):
    number: int = Field(ge=1, le=6)


class CommitmentCondition(Condition):
    require_published: bool = True


class DishonestyCondition(Condition):
    roles: tuple[PersonRole, ...] = Field(min_length=1)
    exclude_codes: tuple[ViolationCase, ...] = ()


class PenaltyCondition(Condition):
    authority_keywords: tuple[str, ...] = ()  # empty: every penalty on file counts


class AccidentCondition(Condition):
    fatal: AccidentMatch
    occupational_disease: bool = True


class GradeCondition(Condition):
    required_grade: int = Field(1, ge=1, le=3)


class OtherFieldCondition(Condition):
    codes: tuple[ViolationCase, ...] = Field(min_length=1)
    lookback: Span | None = None  # None: any such record ever
    # a unit on any of these lists (in force, or a candidate on its records) fails it too (rule 4)
    lists: tuple[str, ...] = ("joint_punishment", "blacklist")


class IncentiveConditions(_Model):
    public_commitment: CommitmentCondition
    no_dishonesty: DishonestyCondition
    no_safety_penalty: PenaltyCondition
    no_fatal_accident_or_occupational_disease: AccidentCondition
    standardization_grade: GradeCondition
    not_punished_elsewhere: OtherFieldCondition


class FraudRule(Cited):
    list: str


class IncentivePolicy(Cited):
    title_zh: str
    title_en: str
    lookback: Span
    period: Span
    reapply_before_expiry: Span
    on_fraud: FraudRule
    conditions: IncentiveConditions


class TitleRevocation(Cited):
    """An accident after the grade was awarded revokes it (a campaign's 撤销称号, `004` §四(二)1)."""

    accidents: AccidentMatch


class IntegrityGradePolicy(Cited):
    on_bad_credit: Literal["downgrade", "withdraw", "keep"]
    downgrade_steps: int = Field(1, ge=1, le=2)
    lowest_grade: int = Field(3, ge=1, le=3)  # downgrading below it withdraws the grade
    revoke_on: TitleRevocation | None = None


class StarBand(_Model):
    stars: int = Field(ge=1, le=5)
    min_score: Decimal = Field(ge=0, le=100)  # 以上: the bound itself qualifies


class Rectification(Cited):
    consecutive_starless_years: int = Field(2, ge=1, le=10)
    # the escalation after the order (`003` §七), in order; each step is an operator's decision
    steps: tuple[Literal["rectification", "suspension", "closure"], ...] = ("rectification", "suspension", "closure")


class StarTracking(Cited):
    """Units rated with these stars stay under tracking supervision (跟踪监督管理, `003` §七)."""

    stars: tuple[int, ...] = Field(min_length=1)


class StarPolicy(Cited):
    bands: tuple[StarBand, ...] = Field(min_length=1)  # highest first
    veto_gives_no_star: bool = True
    no_star_is_key_monitoring: bool = True
    rectification: Rectification
    tracking: StarTracking | None = None


class HighRating(Cited):
    min_stars: int = Field(ge=1, le=5)


class RatingsPolicy(_Model):
    integrity_grade: IntegrityGradePolicy
    stars: StarPolicy
    high_rating: HighRating


class TierCondition(_Model):
    """One conjunction: every stated field must hold."""

    listed_on: tuple[str, ...] | None = None  # on any of these lists
    bad_credit: bool | None = None
    key_monitoring: bool | None = None
    min_stars: int | None = Field(None, ge=1, le=5)
    max_integrity_grade: int | None = Field(None, ge=1, le=3)
    incentive_eligible: bool | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TierCondition:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a tier condition states at least one criterion")
        return self


class Tier(Cited):
    key: Key = Field(pattern=_KEY)
    sampling_zh: str
    sampling_en: str
    when: tuple[TierCondition, ...] = ()  # any one holds; empty: the default tier


class SupervisionPolicy(Cited):
    tiers: tuple[Tier, ...] = Field(min_length=1)


class Measure(Cited):
    basis: str = Field(min_length=1)  # legal basis text


class Profile(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title_zh: str
    title_en: str
    description: str = ""
    effective_from: dt.date | None = None
    bad_credit: BadCreditPolicy
    lists: dict[ListKind, ListPolicy] = Field(min_length=1)
    incentive: IncentivePolicy
    ratings: RatingsPolicy
    supervision: SupervisionPolicy
    publication: PublicationPolicy
    measures: dict[MeasureList, dict[Receiver, tuple[Measure, ...]]]
    procedure: ProcedurePolicy = Field(default_factory=ProcedurePolicy)  # issue 12, rules 4-6

    _source: str = PrivateAttr(default="<profile>")
    _compiled: Any = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        return self._source

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<profile>") -> Profile:
        """Validate a parsed profile; raise ProfileError naming `source`, key path and problem."""
        if not isinstance(data, Mapping):
            raise ProfileError(source, "", "a profile is a mapping of sections")
        try:
            profile = cls.model_validate(dict(data))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise ProfileError(source, _path(err["loc"]), _problem(err)) from None
        from gateway.domain.policy.profile_checks import cross_check

        problems = cross_check(profile)
        if problems:
            path, problem = problems[0]
            raise ProfileError(source, path, problem)
        profile._source = source
        return profile

    def compiled(self) -> Any:
        """Lookups precomputed once per profile (see `gateway.domain.policy.compiled`)."""
        private = self.__pydantic_private__  # direct: this is on every decision's path
        compiled = private.get("_compiled") if private else None
        if compiled is None:
            from gateway.domain.policy.compiled import compile_profile

            compiled = compile_profile(self)
            self._compiled = compiled
        return compiled


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _problem(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")
