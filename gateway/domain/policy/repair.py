"""Publication deadlines and credit repair (信用修复) of penalties (docs/policy.md §8).

- `publish_by`: 双公示 licences and penalties are published within 7 working days of the
  decision (`002` §二(六)); the profile may give a sector a deadline of its own (power-sector
  penalties: 20 working days, `000` §三(四)). A sector rule applies ALONGSIDE the general
  one, never instead of it: every rule that applies is reported (`rules`) and the stricter
  (the earliest day) governs what is overdue. Working days follow the official calendar;
  `estimated` says a fallback year was used.
- Publication period of a penalty (`002` §二(七) cites 发改办财金〔2019〕527号, replaced from
  2023-05-01 by 国家发展改革委令2023年第58号《失信行为纠正后的信用信息修复管理办法（试行）》,
  the rule the profiles carry): ordinary 失信 at least 3 months, at most 1 year; serious 失信
  at least 1 year (527号: 6 months), at most 3 years — per severity, profile data. The
  "later practice" of at least 1 year for every work-safety penalty is a profile switch
  (`publication.repair.work_safety_minimum.enabled`). After the minimum the subject may
  apply for repair (`gateway.policy.repairs`); on an approved repair (`status` repaired) or
  at the maximum the publication is withdrawn everywhere it was sent. Periods run from the
  decision date (CF_JDRQ).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.facts import PenaltyFact
from gateway.domain.policy.output import Output
from gateway.domain.policy.periods import add_working_days
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.profile_publication import Deadline
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class AppliedDeadline(Output):
    """One deadline rule that applies to a record (the general one, a sector's)."""

    key: str
    sector: str | None
    working_days: int
    publish_by: dt.date
    estimated: bool


@dataclass(frozen=True, slots=True)
class PublicationDeadline(Output):
    record_id: str | None
    kind: str  # licence | penalty
    decided_on: dt.date
    publish_by: dt.date  # the governing (stricter) deadline
    estimated: bool
    working_days: int  # of the governing rule
    reason: Reason
    sector: str | None = None
    rules: tuple[AppliedDeadline, ...] = ()  # every rule that applies, the governing one first


@dataclass(frozen=True, slots=True)
class PenaltyPublication(Output):
    record_id: str
    decided_on: dt.date
    severity: str  # ordinary | serious
    deadline: PublicationDeadline
    earliest_repair_on: dt.date  # the subject may apply for credit repair from this day
    publication_ends_on: dt.date  # withdrawn everywhere on this day at the latest
    status: str  # publishing | repairable | repaired | withdrawn
    reasons: tuple[Reason, ...]


_RULES: dict[tuple[int, str, str | None], tuple[Profile, tuple[tuple[int, Deadline], ...]]] = {}


def deadline_rules(kind: str, profile: Profile, sector: str | None = None) -> tuple[tuple[int, Deadline], ...]:
    """(index, rule) of every deadline that applies to `kind` in `sector`: the general rule(s)
    and the sector's own, in profile order (remembered per profile)."""
    key = (id(profile), kind, sector)
    hit = _RULES.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    found = tuple((i, d) for i, d in enumerate(profile.publication.deadlines)
                  if kind in d.kinds and (d.sector is None or d.sector == sector))
    if not found:
        raise ValueError(f"profile {profile.name!r} has no publication deadline for {kind!r}")
    if len(_RULES) > 256:
        _RULES.clear()
    _RULES[key] = (profile, found)
    return found


def publish_by_day(kind: str, decided_on: dt.date, profile: Profile, calendar: WorkingCalendar,
                   sector: str | None = None) -> tuple[dt.date, bool]:
    """(day, estimated) of `publish_by` without its reasons (intake: one per record)."""
    best = None
    for _, rule in deadline_rules(str(kind), profile, sector):
        wd = add_working_days(calendar, decided_on, rule.working_days)
        if best is None or wd.date < best[0]:
            best = (wd.date, wd.estimated)
    assert best is not None  # deadline_rules raises when there is none
    return best


def publish_by(
    kind: str,
    decided_on: dt.date,
    profile: Profile,
    calendar: WorkingCalendar,
    sector: str | None = None,
    record_id: str | None = None,
) -> PublicationDeadline:
    """The last day to publish a licence or penalty decided on `decided_on`: the earliest of
    the deadlines that apply (the stricter governs); all of them are in `rules`."""
    applied = []
    for i, rule in deadline_rules(str(kind), profile, sector):
        wd = add_working_days(calendar, decided_on, rule.working_days)
        applied.append((wd.date, i, rule, wd.estimated))
    applied.sort(key=lambda a: (a[0], a[1]))
    day, i, rule, estimated = applied[0]
    others = [a for a in applied[1:]]
    also_zh = "".join(f"；另{r.text_zh}（{d.isoformat()}）" for d, _, r, _ in others)
    also_en = "".join(f"; also {r.key}: by {d.isoformat()}" for d, _, r, _ in others)
    stricter_zh = "，从严适用" if others else ""
    stricter_en = " (the stricter applies)" if others else ""
    return PublicationDeadline(
        record_id,
        str(kind),
        decided_on,
        day,
        estimated,
        rule.working_days,
        reason(
            rule.key,
            (record_id,) if record_id else (),
            f"publication.deadlines.{i}",
            rule,
            f"{decided_on.isoformat()} 决定，{rule.working_days} 个工作日内公示，截止 {day.isoformat()}"
            + ("（估算）" if estimated else "") + stricter_zh + also_zh,
            f"decided {decided_on.isoformat()}, publish within {rule.working_days} working days, "
            f"by {day.isoformat()}" + (" (estimated)" if estimated else "") + stricter_en + also_en,
        ),
        sector,
        tuple(AppliedDeadline(r.key, r.sector, r.working_days, d, est) for d, _, r, est in applied),
    )


def penalty_publication(
    penalty: PenaltyFact,
    as_of: dt.date,
    profile: Profile,
    calendar: WorkingCalendar,
    sector: str | None = None,
) -> PenaltyPublication:
    rp = profile.publication.repair
    severity = "serious" if penalty.serious else "ordinary"
    band = rp.serious if penalty.serious else rp.ordinary
    start = penalty.date
    earliest = band.min.after(start)
    ends = band.max.after(start)
    reasons = [
        reason(
            f"publication_{severity}",
            (penalty.id,),
            f"publication.repair.{severity}",
            rp,
            f"{'严重' if penalty.serious else '一般'}失信，公示期最短 {band.min.describe_zh()}，最长 {band.max.describe_zh()}",
            f"{severity} dishonesty: published at least {band.min.describe()}, at most {band.max.describe()}",
        )
    ]
    wsm = rp.work_safety_minimum
    if wsm.enabled:
        floor = wsm.min.after(start)
        if floor > earliest:
            earliest = min(floor, ends)
            reasons.append(
                reason(
                    "work_safety_minimum",
                    (penalty.id,),
                    "publication.repair.work_safety_minimum",
                    wsm,
                    f"安全生产行政处罚最短公示 {wsm.min.describe_zh()}，{earliest.isoformat()} 起可申请修复",
                    f"work-safety penalty: at least {wsm.min.describe()}, repair from {earliest.isoformat()}",
                )
            )
    status = "withdrawn" if as_of >= ends else "repairable" if as_of >= earliest else "publishing"
    deadline = publish_by("penalty", start, profile, calendar, sector, penalty.id)
    return PenaltyPublication(penalty.id, start, severity, deadline, earliest, ends, status, tuple(reasons))


def with_repairs(penalties: tuple[PenaltyPublication, ...], repaired: frozenset[str]) -> tuple[PenaltyPublication, ...]:
    """The penalties with an approved credit repair marked `repaired` (unless already withdrawn)."""
    if not repaired:
        return penalties
    return tuple(replace(p, status="repaired") if p.record_id in repaired and p.status != "withdrawn" else p
                 for p in penalties)
