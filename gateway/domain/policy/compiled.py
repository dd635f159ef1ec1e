"""Profile lookups precomputed once, so deciding for a subject does no searching of the profile.

`Profile.compiled()` builds this on first use and keeps it on the profile: level ranks and
cascades, accident matchers as plain predicates, violation code -> rule maps, the star
bands as decimals. The decision modules read only this and the profile's own values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.domain.policy.facts import GRADE_ORDER, AccidentFact
from gateway.domain.policy.measures import MeasureDecision

if TYPE_CHECKING:
    from gateway.domain.policy.profile import (
        AccidentLevelRule,
        AccidentMatch,
        ListCase,
        ListPolicy,
        Profile,
        Tier,
        TierCondition,
        ViolationLevelRule,
    )

AccidentPredicate = Callable[[AccidentFact], bool]


def accident_predicate(m: AccidentMatch) -> AccidentPredicate:
    grades = frozenset(GRADE_ORDER[g.value] for g in m.grades) if m.grades else None
    min_grade = GRADE_ORDER[m.min_grade.value] if m.min_grade else None
    min_deaths, min_injuries = m.min_deaths, m.min_injuries
    responsibility, egregious = m.responsibility, m.egregious

    def matches(a: AccidentFact) -> bool:
        return (
            (grades is None or a.grade in grades)
            and (min_grade is None or a.grade >= min_grade)
            and a.deaths >= min_deaths
            and a.injuries >= min_injuries
            and (responsibility is None or a.responsibility == responsibility)
            and (egregious is None or a.egregious == egregious)
        )

    return matches


@dataclass(frozen=True, slots=True)
class LevelRule:
    rank: int
    index: int  # position in the profile section, for the entry key path
    rule: AccidentLevelRule | ViolationLevelRule
    matches: AccidentPredicate | None


@dataclass(frozen=True, slots=True)
class CompiledCase:
    index: int
    case: ListCase
    matches: AccidentPredicate | None
    codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledList:
    kind: str
    policy: ListPolicy
    cases: tuple[CompiledCase, ...]


@dataclass(frozen=True, slots=True)
class CompiledTierCondition:
    index: int
    condition: TierCondition
    used: tuple[str, ...]  # the criteria it states
    text: str


@dataclass(frozen=True, slots=True)
class CompiledTier:
    index: int
    tier: Tier
    conditions: tuple[CompiledTierCondition, ...]


@dataclass(frozen=True, slots=True)
class CompiledProfile:
    level_rank: dict[str, int]
    cascade: dict[str, tuple[str, ...]]  # level -> itself and every level it implies, highest first
    accident_levels: tuple[LevelRule, ...]  # highest level first
    violation_levels: dict[str, LevelRule]
    lists: tuple[CompiledList, ...]
    fatal_accident: AccidentPredicate
    excluded_dishonesty: frozenset[str]
    dishonesty_roles: frozenset[str]
    other_field_codes: frozenset[str]
    list_violation_codes: frozenset[str]  # every code some list case counts
    list_accident_cases: bool  # whether any list case counts accidents
    measures: dict[str, tuple[MeasureDecision, ...]]  # list kind -> measures, in profile order
    tiers: tuple[CompiledTier, ...]


def compile_profile(p: Profile) -> CompiledProfile:
    bc = p.bad_credit
    rank = {level: i for i, level in enumerate(bc.levels)}
    cascade = {
        level: tuple(reversed(bc.levels[: i + 1])) if bc.cascade else (level,) for level, i in rank.items()
    }
    acc = sorted(
        (
            LevelRule(rank[r.level], i, r, accident_predicate(r.when))
            for i, r in enumerate(bc.accident_levels)
        ),
        key=lambda lr: -lr.rank,
    )
    vio: dict[str, LevelRule] = {}
    for i, r in enumerate(bc.violation_cases):
        for code in r.codes:
            current = vio.get(code.value)
            if current is None or rank[r.level] > current.rank:
                vio[code.value] = LevelRule(rank[r.level], i, r, None)
    lists = tuple(
        CompiledList(
            kind,
            lp,
            tuple(
                CompiledCase(
                    i,
                    c,
                    accident_predicate(c.accidents.match) if c.accidents else None,
                    frozenset(v.value for v in c.violations or ()),
                )
                for i, c in enumerate(lp.cases)
            ),
        )
        for kind, lp in p.lists.items()
    )
    cond = p.incentive.conditions
    measures = {
        kind: tuple(
            MeasureDecision(
                kind,
                receiver,
                m.text_zh,
                m.text_en,
                m.basis,
                m.rules,
                m.source,
                f"measures.{kind}.{receiver}.{i}",
            )
            for receiver, ms in receivers.items()
            for i, m in enumerate(ms)
        )
        for kind, receivers in p.measures.items()
    }
    tiers = []
    for i, tier in enumerate(p.supervision.tiers):
        conds = []
        for j, tc in enumerate(tier.when):
            used = tc.model_dump(exclude_none=True)
            text = ", ".join(f"{k}={v}" for k, v in used.items())
            conds.append(CompiledTierCondition(j, tc, tuple(used), text))
        tiers.append(CompiledTier(i, tier, tuple(conds)))
    return CompiledProfile(
        level_rank=rank,
        cascade=cascade,
        accident_levels=tuple(acc),
        violation_levels=vio,
        lists=lists,
        fatal_accident=accident_predicate(cond.no_fatal_accident_or_occupational_disease.fatal),
        excluded_dishonesty=frozenset(c.value for c in cond.no_dishonesty.exclude_codes),
        dishonesty_roles=frozenset(r.value for r in cond.no_dishonesty.roles),
        other_field_codes=frozenset(c.value for c in cond.not_punished_elsewhere.codes),
        list_violation_codes=frozenset(code for cl in lists for cc in cl.cases for code in cc.codes),
        list_accident_cases=any(cc.matches is not None for cl in lists for cc in cl.cases),
        measures=measures,
        tiers=tuple(tiers),
    )
