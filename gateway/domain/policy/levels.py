"""Bad-credit records (安全生产不良信用记录), their level and cascade (docs/policy.md §3, `000` §三(二)).

An accident or a violation puts the unit on the bad-credit record for the profile's
management period (one year), from the day it happened. Accidents get their level from the
worst rule they match (injury accident → district; general responsibility accident → city;
2 or more deaths → provincial; 较大 or worse → national, in the seed profiles). With
cascade on, a record at a level is a record at every level below it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.domain.policy.facts import SubjectFacts
from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.reasons import Reason, reason

LEVEL_ZH = {"district": "区级", "city": "市级", "provincial": "省级", "national": "国家级"}


@dataclass(frozen=True, slots=True)
class BadCreditRecord(Output):
    record_id: str
    case: str  # the profile rule key
    level: str
    levels: tuple[str, ...]  # the level and every level it cascades to, highest first
    starts_on: dt.date
    ends_on: dt.date  # first day off the record
    reason: Reason


@dataclass(frozen=True, slots=True)
class BadCreditDecision(Output):
    current: bool
    highest_level: str | None
    levels: tuple[str, ...]  # every level the subject is on, highest first
    records: tuple[BadCreditRecord, ...]


def cascade(level: str, profile: Profile) -> tuple[str, ...]:
    """The levels a record at `level` counts at, highest first (national ⇒ provincial ⇒ ...)."""
    return profile.compiled().cascade[level]


def bad_credit(facts: SubjectFacts, as_of: dt.date, profile: Profile) -> BadCreditDecision:
    c = profile.compiled()
    period = profile.bad_credit.management_period
    out: list[BadCreditRecord] = []
    for a in facts.accidents:
        ends = period.after(a.date)
        if ends <= as_of:
            continue
        for lr in c.accident_levels:
            if lr.matches(a):  # type: ignore[misc]
                out.append(
                    _record(
                        a.id, a.date, ends, lr.rule, f"accident_levels.{lr.index}", c, ("事故", "accident")
                    )
                )
                break
    for v in facts.violations:
        lr = c.violation_levels.get(v.case)
        if lr is None:
            continue
        ends = period.after(v.date)
        if ends > as_of:
            out.append(
                _record(v.id, v.date, ends, lr.rule, f"violation_cases.{lr.index}", c, (v.case, v.case))
            )
    if not out:
        return BadCreditDecision(False, None, (), ())
    out.sort(key=lambda r: (-c.level_rank[r.level], r.starts_on, r.record_id))
    highest = out[0].level
    return BadCreditDecision(True, highest, c.cascade[highest], tuple(out))


def _record(record_id, start, ends, rule, entry, c, what) -> BadCreditRecord:  # type: ignore[no-untyped-def]
    levels = c.cascade[rule.level]
    return BadCreditRecord(
        record_id,
        rule.key,
        rule.level,
        levels,
        start,
        ends,
        reason(
            rule.key,
            (record_id,),
            f"bad_credit.{entry}",
            rule,
            f"{what[0]}（{start.isoformat()}）→ {'、'.join(LEVEL_ZH.get(x, x) for x in levels)}不良信用记录，至 {ends.isoformat()}",
            f"{what[1]} on {start.isoformat()} → bad-credit record at {', '.join(levels)} until {ends.isoformat()}",
        ),
    )
