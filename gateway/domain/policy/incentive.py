"""Joint incentive list (守信联合激励对象) eligibility: six conditions (RULES.md §5, `001` §三(一)4).

All six must hold on `as_of`; each is reported true or false with its evidence (the ids of
the records that satisfy it, or that break it):

1. a public commitment, kept (公开承诺并严格遵守);
2. no 失信 behaviour by the unit, its principal or its safety head within the lookback;
3. no administrative penalty by safety supervision within the lookback;
4. no fatal responsibility accident and no new occupational disease case within the lookback;
5. standardization grade 一级 (the latest grade still valid);
6. not on a joint punishment list in another field.

"Within 3 years" means the event happened after `as_of` minus the lookback.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.domain.policy.facts import SubjectFacts
from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class ConditionResult(Output):
    key: str
    number: int
    met: bool
    record_ids: tuple[str, ...]  # evidence: records that satisfy it (met) or break it (not met)
    reason: Reason


@dataclass(frozen=True, slots=True)
class IncentiveDecision(Output):
    eligible: bool
    conditions: tuple[ConditionResult, ...]  # in the order of the six conditions
    missing: tuple[str, ...]  # keys of the conditions not met
    reasons: tuple[Reason, ...]


def latest_grade(facts: SubjectFacts, as_of: dt.date):  # type: ignore[no-untyped-def]
    """The latest standardization grade still valid on `as_of`, or None."""
    for g in reversed(facts.grades):
        if g.valid_until is None or g.valid_until >= as_of:
            return g
    return None


def incentive_eligibility(facts: SubjectFacts, as_of: dt.date, profile: Profile) -> IncentiveDecision:
    ip = profile.incentive
    cond = ip.conditions
    c = profile.compiled()
    since = ip.lookback.before(as_of)  # events on or before `since` are outside the lookback
    results: list[ConditionResult] = []

    def add(key: str, met: bool, ids: list[str] | tuple[str, ...], zh: str, en: str) -> None:
        entry = getattr(cond, key)
        results.append(
            ConditionResult(
                key,
                entry.number,
                met,
                tuple(ids),
                reason(
                    f"incentive_{key}",
                    tuple(ids),
                    f"incentive.conditions.{key}",
                    entry,
                    ("满足：" if met else "不满足：") + zh,
                    ("met: " if met else "not met: ") + en,
                ),
            )
        )

    # (1) public commitment, kept
    pc = cond.public_commitment
    broken = [x.id for x in facts.commitments if not x.kept and x.date > since]
    public = [x.id for x in facts.commitments if x.kept and (x.published or not pc.require_published)]
    if broken:
        add("public_commitment", False, broken, "有未履行的承诺", "a commitment was broken")
    elif public:
        add("public_commitment", True, public, "已公开承诺并履行", "public commitment on file and kept")
    else:
        add("public_commitment", False, (), "无公开承诺记录", "no public commitment on file")

    # (2) no 失信 behaviour by the unit, principal or safety head
    bad = [
        v.id
        for v in facts.violations
        if v.date > since and v.role in c.dishonesty_roles and v.case not in c.excluded_dishonesty
    ]
    add(
        "no_dishonesty",
        not bad,
        bad,
        f"{ip.lookback.describe_zh()}内失信行为 {len(bad)} 项",
        f"{len(bad)} violation(s) within {ip.lookback.describe()}",
    )

    # (3) no administrative penalty by safety supervision
    keywords = cond.no_safety_penalty.authority_keywords
    pens = [
        p.id
        for p in facts.penalties
        if p.date > since and (not keywords or any(k in p.authority for k in keywords))
    ]
    add(
        "no_safety_penalty",
        not pens,
        pens,
        f"{ip.lookback.describe_zh()}内行政处罚 {len(pens)} 项",
        f"{len(pens)} penalty(ies) within {ip.lookback.describe()}",
    )

    # (4) no fatal responsibility accident, no new occupational disease case
    occ = cond.no_fatal_accident_or_occupational_disease.occupational_disease
    acc = [
        a.id
        for a in facts.accidents
        if a.date > since and (c.fatal_accident(a) or (occ and a.occupational_disease_cases > 0))
    ]
    add(
        "no_fatal_accident_or_occupational_disease",
        not acc,
        acc,
        f"{ip.lookback.describe_zh()}内死亡责任事故或新发职业病 {len(acc)} 起",
        f"{len(acc)} fatal responsibility accident(s) or new occupational disease case(s) "
        f"within {ip.lookback.describe()}",
    )

    # (5) standardization grade 一级
    required = cond.standardization_grade.required_grade
    g = latest_grade(facts, as_of)
    if g is None:
        add(
            "standardization_grade", False, (), "无有效的安全生产标准化等级", "no valid standardization grade"
        )
    else:
        add(
            "standardization_grade",
            g.grade <= required,
            (g.id,),
            f"标准化等级 {g.grade} 级（要求 {required} 级）",
            f"standardization grade {g.grade} (required {required})",
        )

    # (6) not on a joint punishment list in another field
    lb = cond.not_punished_elsewhere.lookback
    floor = lb.before(as_of) if lb else None
    other = [
        v.id for v in facts.violations if v.case in c.other_field_codes and (floor is None or v.date > floor)
    ]
    add(
        "not_punished_elsewhere",
        not other,
        other,
        f"其他领域失信联合惩戒记录 {len(other)} 项",
        f"{len(other)} joint punishment record(s) in another field",
    )

    results.sort(key=lambda r: r.number)
    missing = tuple(r.key for r in results if not r.met)
    return IncentiveDecision(not missing, tuple(results), missing, tuple(r.reason for r in results))
