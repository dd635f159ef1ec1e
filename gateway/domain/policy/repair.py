"""Publication deadlines and credit repair (信用修复) of penalties (docs/policy.md §8).

- `publish_by`: 双公示 licences and penalties are published within 7 working days of the
  decision (`002` §二(六)); the profile may give a sector its own deadline (power-sector
  penalties: 20 working days, `000` §三(四)); a sector rule wins over the general one.
  Working days follow the official calendar; `estimated` says a fallback year was used.
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
from gateway.domain.policy.profile import Deadline, Profile
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class PublicationDeadline(Output):
    record_id: str | None
    kind: str  # licence | penalty
    decided_on: dt.date
    publish_by: dt.date
    estimated: bool
    working_days: int
    reason: Reason


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


_RULES: dict[tuple[int, str, str | None], tuple[Profile, tuple[int, Deadline]]] = {}


def deadline_rule(kind: str, profile: Profile, sector: str | None = None) -> tuple[int, Deadline]:
    """(index, rule) of the deadline that applies to `kind` in `sector` (remembered per profile)."""
    key = (id(profile), kind, sector)
    hit = _RULES.get(key)
    if hit is not None and hit[0] is profile:
        return hit[1]
    found = _find_rule(kind, profile, sector)
    if len(_RULES) > 256:
        _RULES.clear()
    _RULES[key] = (profile, found)
    return found


def _find_rule(kind: str, profile: Profile, sector: str | None) -> tuple[int, Deadline]:
    general = None
    for i, d in enumerate(profile.publication.deadlines):
        if kind not in d.kinds:
            continue
        if d.sector is not None and d.sector == sector:
            return i, d
        if d.sector is None and general is None:
            general = (i, d)
    if general is None:
        raise ValueError(f"profile {profile.name!r} has no publication deadline for {kind!r}")
    return general


def publish_by(
    kind: str,
    decided_on: dt.date,
    profile: Profile,
    calendar: WorkingCalendar,
    sector: str | None = None,
    record_id: str | None = None,
) -> PublicationDeadline:
    """The last day to publish a licence or penalty decided on `decided_on`."""
    i, rule = deadline_rule(str(kind), profile, sector)
    wd = add_working_days(calendar, decided_on, rule.working_days)
    return PublicationDeadline(
        record_id,
        str(kind),
        decided_on,
        wd.date,
        wd.estimated,
        rule.working_days,
        reason(
            rule.key,
            (record_id,) if record_id else (),
            f"publication.deadlines.{i}",
            rule,
            f"{decided_on.isoformat()} 决定，{rule.working_days} 个工作日内公示，截止 {wd.date.isoformat()}"
            + ("（估算）" if wd.estimated else ""),
            f"decided {decided_on.isoformat()}, publish within {rule.working_days} working days, "
            f"by {wd.date.isoformat()}" + (" (estimated)" if wd.estimated else ""),
        ),
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
