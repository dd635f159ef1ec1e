"""Joint punishment list (失信联合惩戒对象) and blacklist (黑名单) candidacy (docs/policy.md §4, §10).

A list's cases are data: an accident criterion (which accidents, how many, within what
window) or a set of violation codes that list directly. A case stands on `as_of` when the
event that completed it happened within the list's period before `as_of`; the candidacy
names the case(s) and the records behind them.

Windows: `count` accidents are "within" a window when the last falls before
first + window. With `window: {days: 365}` the first accident is day 1, so three fatal
general accidents with the third on day 365 list the unit and with the third on day 366
do not (`001` §三(一)3 "1年内(即365天内)"); `{months: 12}` counts calendar months (§10).
A list may imply another (`implies`): a blacklisted unit is also on the joint punishment list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.compiled import CompiledCase, CompiledProfile
from gateway.domain.policy.facts import AccidentFact, SubjectFacts
from gateway.domain.policy.output import Output
from gateway.domain.policy.periods import EntryPeriod, entry_period
from gateway.domain.policy.profile import Profile, Span
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class CaseHit(Output):
    case: str  # the profile case key
    code: str  # the case code (a ViolationCase value or the profile's accident case code)
    record_ids: tuple[str, ...]
    triggered_on: dt.date  # the day the case was complete
    reason: Reason


@dataclass(frozen=True, slots=True)
class ListCandidacy(Output):
    list_kind: str
    title_zh: str
    title_en: str
    candidate: bool
    cases: tuple[CaseHit, ...]
    implied_by: tuple[str, ...]  # other lists whose entry puts the subject on this one
    period: EntryPeriod | None  # as if listed on the latest trigger day
    reasons: tuple[Reason, ...]

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rid for hit in self.cases for rid in hit.record_ids))


def list_candidacy(
    facts: SubjectFacts, as_of: dt.date, profile: Profile, calendar: WorkingCalendar
) -> tuple[ListCandidacy, ...]:
    """Candidacy for every list of the profile, in profile order."""
    compiled = profile.compiled()
    # most subjects have neither accidents nor listing violations: skip the cases then
    has_accidents = bool(facts.accidents) and compiled.list_accident_cases
    has_violations = any(v.case in compiled.list_violation_codes for v in facts.violations)
    if not (has_accidents or has_violations):
        return _not_listed(compiled)
    hits: dict[str, list[CaseHit]] = {}
    for cl in compiled.lists:
        period = cl.policy.period
        found = []
        for cc in cl.cases:
            if (cc.matches is None and not has_violations) or (cc.matches is not None and not has_accidents):
                continue
            hit = _case_hit(cl.kind, cc, facts, as_of, period)
            if hit is not None:
                found.append(hit)
        hits[cl.kind] = found
    implied: dict[str, list[tuple[str, dt.date, Reason]]] = {cl.kind: [] for cl in compiled.lists}
    for cl in compiled.lists:
        if hits[cl.kind]:
            latest = max(h.triggered_on for h in hits[cl.kind])
            ids = tuple(dict.fromkeys(r for h in hits[cl.kind] for r in h.record_ids))
            for target in cl.policy.implies:
                implied[target].append(
                    (
                        cl.kind,
                        latest,
                        reason(
                            f"implied_by_{cl.kind}",
                            ids,
                            f"lists.{cl.kind}.implies",
                            cl.policy,
                            f"列入{cl.policy.title_zh}，同时列入{profile.lists[target].title_zh}",  # type: ignore[index]
                            f"on the {cl.policy.title_en}, hence also on the {profile.lists[target].title_en}",  # type: ignore[index]
                        ),
                    )
                )
    out = []
    for cl in compiled.lists:
        found = hits[cl.kind]
        imp = implied[cl.kind]
        candidate = bool(found or imp)
        period = None
        if candidate:
            start = max([h.triggered_on for h in found] + [d for _, d, _ in imp])
            period = entry_period(cl.kind, start, profile, calendar)
        out.append(
            ListCandidacy(
                cl.kind,
                cl.policy.title_zh,
                cl.policy.title_en,
                candidate,
                tuple(found),
                tuple(k for k, _, _ in imp),
                period,
                tuple(h.reason for h in found) + tuple(r for _, _, r in imp),
            )
        )
    return tuple(out)


def _not_listed(compiled: CompiledProfile) -> tuple[ListCandidacy, ...]:
    return tuple(
        ListCandidacy(cl.kind, cl.policy.title_zh, cl.policy.title_en, False, (), (), None, ())
        for cl in compiled.lists
    )


def _case_hit(
    kind: str, cc: CompiledCase, facts: SubjectFacts, as_of: dt.date, period: Span
) -> CaseHit | None:
    case = cc.case
    entry = f"lists.{kind}.cases.{cc.index}"
    if cc.matches is None:
        vs = [v for v in facts.violations if v.case in cc.codes and period.after(v.date) > as_of]
        if not vs:
            return None
        ids = tuple(v.id for v in vs)
        last = vs[-1].date
        return CaseHit(
            case.key,
            case.code,
            ids,
            last,
            reason(
                case.code,
                ids,
                entry,
                case,
                f"失信行为 {len(ids)} 项，最近一项 {last.isoformat()}",
                f"{len(ids)} violation(s), latest on {last.isoformat()}",
            ),
        )
    matching = [a for a in facts.accidents if cc.matches(a)]
    crit = case.accidents
    assert crit is not None
    window = _latest_window(matching, crit.count, crit.window)
    if window is None:
        return None
    last = window[-1].date
    if period.after(last) <= as_of:
        return None
    ids = tuple(a.id for a in window)
    span = f" within {crit.window.describe()}" if crit.window else ""
    span_zh = f"（{crit.window.describe_zh()}内）" if crit.window else ""
    return CaseHit(
        case.key,
        case.code,
        ids,
        last,
        reason(
            case.code,
            ids,
            entry,
            case,
            f"符合条件的事故 {len(ids)} 起{span_zh}，{window[0].date.isoformat()} 至 {last.isoformat()}",
            f"{len(ids)} qualifying accident(s){span}, {window[0].date.isoformat()} to {last.isoformat()}",
        ),
    )


def _latest_window(
    accidents: list[AccidentFact], count: int, window: Span | None
) -> list[AccidentFact] | None:
    """The accidents of the latest window holding `count` of them (sorted by date), or None."""
    if len(accidents) < count:
        return None
    if window is None or count == 1:
        return accidents[-count:] if count > 1 else [accidents[-1]]
    best: tuple[int, int] | None = None
    j = 0
    for i, a in enumerate(accidents):
        while window.after(accidents[j].date) <= a.date:
            j += 1
        if i - j + 1 >= count:
            best = (j, i)
    if best is None:
        return None
    return accidents[best[0] : best[1] + 1]
