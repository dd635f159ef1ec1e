"""Joint incentive list (守信联合激励对象) eligibility: six conditions (docs/policy.md §5, `001` §三(一)4).

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
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.policy.compiled import accident_predicate
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


def title_revoked_by(facts: SubjectFacts, grade, as_of: dt.date, profile: Profile) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The accidents that revoke `grade` (the profile's `ratings.integrity_grade.revoke_on`: a
    fatal accident after the title was awarded, `004` §四(二)1); () when it stands. The integrity
    grade and incentive condition 5 both read it, so no answer keeps a title another revoked."""
    revoke = profile.ratings.integrity_grade.revoke_on
    if revoke is None:
        return ()
    matches = accident_predicate(revoke.accidents)
    return tuple(a.id for a in facts.accidents if grade.date <= a.date <= as_of and matches(a))


_SHARED: dict[tuple[str, int, bool, str, str], tuple[object, ConditionResult]] = {}


def _result(
    key: str, entry, met: bool, ids: list[str] | tuple[str, ...], zh: str, en: str
) -> ConditionResult:  # type: ignore[no-untyped-def]
    """One condition's result; those without evidence repeat across subjects and are shared."""
    cache_key = (key, id(entry), met, zh, en)
    if not ids:
        hit = _SHARED.get(cache_key)
        if hit is not None and hit[0] is entry:
            return hit[1]
    result = ConditionResult(
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
    if not ids:
        if len(_SHARED) > 1024:
            _SHARED.clear()
        _SHARED[cache_key] = (entry, result)
    return result


def incentive_eligibility(facts: SubjectFacts, as_of: dt.date, profile: Profile) -> IncentiveDecision:
    ip = profile.incentive
    cond = ip.conditions
    c = profile.compiled()
    since = ip.lookback.before(as_of)  # events on or before `since` are outside the lookback
    within_zh, within_en = ip.lookback.describe_zh(), ip.lookback.describe()

    # (1) public commitment, kept
    pc = cond.public_commitment
    broken = [x.id for x in facts.commitments if not x.kept and x.date > since]
    public = [x.id for x in facts.commitments if x.kept and (x.published or not pc.require_published)]
    if broken:
        r1 = _result("public_commitment", pc, False, broken, "有未履行的承诺", "a commitment was broken")
    elif public:
        r1 = _result(
            "public_commitment", pc, True, public, "已公开承诺并履行", "public commitment on file and kept"
        )
    else:
        r1 = _result("public_commitment", pc, False, (), "无公开承诺记录", "no public commitment on file")

    # (2) no 失信 behaviour by the unit, principal or safety head
    roles, excluded = c.dishonesty_roles, c.excluded_dishonesty
    bad = [v.id for v in facts.violations if v.date > since and v.role in roles and v.case not in excluded]
    r2 = _result(
        "no_dishonesty",
        cond.no_dishonesty,
        not bad,
        bad,
        f"{within_zh}内失信行为 {len(bad)} 项",
        f"{len(bad)} violation(s) within {within_en}",
    )

    # (3) no administrative penalty by safety supervision
    keywords = cond.no_safety_penalty.authority_keywords
    pens = [
        p.id
        for p in facts.penalties
        if p.date > since and (not keywords or any(k in p.authority for k in keywords))
    ]
    r3 = _result(
        "no_safety_penalty",
        cond.no_safety_penalty,
        not pens,
        pens,
        f"{within_zh}内行政处罚 {len(pens)} 项",
        f"{len(pens)} penalty(ies) within {within_en}",
    )

    # (4) no fatal responsibility accident, no new occupational disease case
    c4 = cond.no_fatal_accident_or_occupational_disease
    occ = c4.occupational_disease
    fatal = c.fatal_accident
    acc = [
        a.id
        for a in facts.accidents
        if a.date > since and (fatal(a) or (occ and a.occupational_disease_cases > 0))
    ]
    r4 = _result(
        "no_fatal_accident_or_occupational_disease",
        c4,
        not acc,
        acc,
        f"{within_zh}内死亡责任事故或新发职业病 {len(acc)} 起",
        f"{len(acc)} fatal responsibility accident(s) or new occupational disease case(s) within {within_en}",
    )

    # (5) standardization grade 一级
    c5 = cond.standardization_grade
    required = c5.required_grade
    g = latest_grade(facts, as_of)
    if g is None:
        r5 = _result(
            "standardization_grade",
            c5,
            False,
            (),
            "无有效的安全生产标准化等级",
            "no valid standardization grade",
        )
    elif revoked := title_revoked_by(facts, g, as_of, profile):
        r5 = _result(
            "standardization_grade",
            c5,
            False,
            (g.id, *revoked),
            f"标准化等级 {g.grade} 级的称号因亡人事故被撤销",
            f"standardization grade {g.grade}: the title was revoked (fatal accident)",
        )
    else:
        r5 = _result(
            "standardization_grade",
            c5,
            g.grade <= required,
            (g.id,),
            f"标准化等级 {g.grade} 级（要求 {required} 级）",
            f"standardization grade {g.grade} (required {required})",
        )

    # (6) not on a joint punishment list in another field
    c6 = cond.not_punished_elsewhere
    floor = c6.lookback.before(as_of) if c6.lookback else None
    codes = c.other_field_codes
    other = [v.id for v in facts.violations if v.case in codes and (floor is None or v.date > floor)]
    r6 = _result(
        "not_punished_elsewhere",
        c6,
        not other,
        other,
        f"其他领域失信联合惩戒记录 {len(other)} 项",
        f"{len(other)} joint punishment record(s) in another field",
    )

    results = sorted((r1, r2, r3, r4, r5, r6), key=lambda r: r.number)
    missing = tuple(r.key for r in results if not r.met)
    return IncentiveDecision(not missing, tuple(results), missing, tuple(r.reason for r in results))


def not_listed(decision: IncentiveDecision, listings: Sequence[tuple[str, Sequence[str]]],
               profile: Profile) -> IncentiveDecision:
    """Condition 6 read as the documents mean it (`001` §三(一)4(6)): a unit on ANY joint
    punishment list or blacklist — an entry in force, or a candidacy on its records — is not
    eligible, whichever field listed it. `listings`: (list kind, its entry uid or records);
    the lists counted are the profile's `not_punished_elsewhere.lists`."""
    c6 = profile.incentive.conditions.not_punished_elsewhere
    counted = [(kind, ids) for kind, ids in listings if kind in c6.lists]
    if not counted:
        return decision
    ids = tuple(dict.fromkeys(i for _, ids in counted for i in ids))
    kinds = sorted({kind for kind, _ in counted})
    failed = _result("not_punished_elsewhere", c6, False, ids, f"列入失信联合惩戒名单：{'、'.join(kinds)}",
                     f"on a punishment list: {', '.join(kinds)}")
    results = tuple(failed if r.key == "not_punished_elsewhere" else r for r in decision.conditions)
    missing = tuple(r.key for r in results if not r.met)
    return IncentiveDecision(False, results, missing, tuple(r.reason for r in results))
