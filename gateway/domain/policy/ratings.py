"""Ratings (docs/policy.md §7): 诚信等级, star rating, two star-less years, supervision tier.

- 诚信等级 (`000` §三(三)): the latest valid standardization grade (一级/二级/三级); a
  current bad-credit record downgrades it or withdraws it, as the profile says; a campaign
  profile may revoke it (`revoke_on`: a fatal accident after it was awarded, `004` §四(二)1).
- Star rating (`003` §六): bands from the profile, highest first, each a minimum score
  that itself qualifies ("以上" includes the bound; "以下" excludes it), so with the seed
  bands 95 → five stars, 94.99 → four, 75 → three, 74.99 → none. A veto item (否决项) gives
  no star whatever the score; no star makes the unit a key-monitoring unit (重点监控).
- Consecutive star-less years (`003` §七): two in a row → ordered rectification.
- Supervision tier (`002` §二(三)): the first tier whose criteria hold, in profile order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from gateway.domain.policy.facts import SubjectFacts
from gateway.domain.policy.incentive import latest_grade, title_revoked_by
from gateway.domain.policy.levels import BadCreditDecision
from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile, TierCondition
from gateway.domain.policy.reasons import Reason, reason


@dataclass(frozen=True, slots=True)
class IntegrityGradeDecision(Output):
    base_grade: int | None  # the standardization grade
    grade: int | None  # after downgrade; None when withdrawn or never graded
    action: str  # none | downgraded | withdrawn | revoked | ungraded
    record_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class YearRating(Output):
    year: int
    record_id: str
    score: Decimal
    veto_items: tuple[str, ...]
    stars: int | None
    key_monitoring: bool
    rectification_ordered: bool  # this year completes a run of star-less years
    reason: Reason


@dataclass(frozen=True, slots=True)
class StarRatingDecision(Output):
    latest: YearRating | None
    years: tuple[YearRating, ...]
    key_monitoring: bool  # the latest year gave no star
    starless_streak: tuple[int, ...]  # consecutive star-less years ending at the latest rated year
    rectification_ordered: bool
    tracking: bool = False  # the latest year's stars keep the unit under tracking (三星, `003` §七)
    tracking_reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class SupervisionDecision(Output):
    tier: str
    sampling_zh: str
    sampling_en: str
    reasons: tuple[Reason, ...]


def stars_for(score: Decimal, veto_items: tuple[str, ...], profile: Profile) -> int | None:
    sp = profile.ratings.stars
    if veto_items and sp.veto_gives_no_star:
        return None
    for band in sp.bands:
        if score >= band.min_score:
            return band.stars
    return None


def integrity_grade(
    facts: SubjectFacts, as_of: dt.date, profile: Profile, bad: BadCreditDecision
) -> IntegrityGradeDecision:
    gp = profile.ratings.integrity_grade
    g = latest_grade(facts, as_of)
    if g is None:
        return IntegrityGradeDecision(None, None, "ungraded", (), ())
    base = reason(
        "integrity_grade",
        (g.id,),
        "ratings.integrity_grade",
        gp,
        f"{g.year} 年标准化等级 {g.grade} 级",
        f"standardization grade {g.grade} ({g.year})",
    )
    if gp.revoke_on is not None:
        hits = title_revoked_by(facts, g, as_of, profile)
        if hits:
            why = reason("integrity_grade_revoked", hits, "ratings.integrity_grade.revoke_on", gp.revoke_on,
                         gp.revoke_on.text_zh or "亡人事故，撤销标准化称号",
                         gp.revoke_on.text_en or "fatal accident: standardization title revoked")
            return IntegrityGradeDecision(g.grade, None, "revoked", (g.id, *hits), (base, why))
    if not bad.current or gp.on_bad_credit == "keep":
        return IntegrityGradeDecision(g.grade, g.grade, "none", (g.id,), (base,))
    bad_ids = tuple(r.record_id for r in bad.records)
    new = g.grade + gp.downgrade_steps
    if gp.on_bad_credit == "withdraw" or new > gp.lowest_grade:
        action, grade, zh, en = (
            "withdrawn",
            None,
            "不良信用记录，取消诚信等级",
            "bad-credit record: grade withdrawn",
        )
    else:
        action, grade = "downgraded", new
        zh, en = f"不良信用记录，下调至 {new} 级", f"bad-credit record: downgraded to grade {new}"
    why = reason("integrity_grade_" + action, bad_ids, "ratings.integrity_grade.on_bad_credit", gp, zh, en)
    return IntegrityGradeDecision(g.grade, grade, action, (g.id, *bad_ids), (base, why))


def star_ratings(facts: SubjectFacts, profile: Profile) -> StarRatingDecision:
    sp = profile.ratings.stars
    need = sp.rectification.consecutive_starless_years
    by_year = {s.year: s for s in facts.scores}  # the last record of a year wins
    years: list[YearRating] = []
    streak: list[int] = []
    for year in sorted(by_year):
        s = by_year[year]
        stars = stars_for(s.score, s.veto_items, profile)
        if stars is not None:
            streak = []
        elif streak and streak[-1] == year - 1:
            streak = [*streak, year]
        else:
            streak = [year]
        rectify = stars is None and len(streak) >= need
        if stars is not None:
            zh, en = f"{s.score} 分，{stars} 星", f"score {s.score}: {stars} stars"
        elif s.veto_items and sp.veto_gives_no_star:
            zh, en = (
                f"存在否决项（{'、'.join(s.veto_items)}），不评星级",
                f"veto item(s) {', '.join(s.veto_items)}: no star",
            )
        else:
            zh, en = f"{s.score} 分，不评星级", f"score {s.score}: no star"
        if stars is None and sp.no_star_is_key_monitoring:
            zh, en = zh + "，列为重点监控单位", en + "; key-monitoring unit"
        if rectify:
            zh, en = (
                zh + f"；连续 {len(streak)} 年未评星级，责令整改",
                en + f"; {len(streak)} years without a star: rectification",
            )
        years.append(
            YearRating(
                year,
                s.id,
                s.score,
                s.veto_items,
                stars,
                stars is None and sp.no_star_is_key_monitoring,
                rectify,
                reason(
                    f"stars_{stars or 0}",
                    (s.id,),
                    "ratings.stars.rectification" if rectify else "ratings.stars.bands",
                    sp.rectification if rectify else sp,
                    zh,
                    en,
                ),
            )
        )
    latest = years[-1] if years else None
    current_streak = tuple(streak)
    tracking, why = False, None
    if sp.tracking is not None and latest is not None and latest.stars in sp.tracking.stars:
        tracking = True
        why = reason("star_tracking", (latest.record_id,), "ratings.stars.tracking", sp.tracking,
                     sp.tracking.text_zh or f"{latest.stars} 星，跟踪监督管理",
                     sp.tracking.text_en or f"{latest.stars} stars: under tracking supervision")
    return StarRatingDecision(
        latest,
        tuple(years),
        bool(latest and latest.key_monitoring),
        current_streak,
        bool(latest and latest.rectification_ordered),
        tracking,
        why,
    )


def is_high_rating(stars: StarRatingDecision, profile: Profile) -> bool:
    latest = stars.latest
    return bool(latest and latest.stars is not None and latest.stars >= profile.ratings.high_rating.min_stars)


def supervision_tier(
    profile: Profile,
    *,
    listed: frozenset[str],
    bad: BadCreditDecision,
    stars: StarRatingDecision,
    grade: IntegrityGradeDecision,
    incentive_eligible: bool,
    evidence: dict[str, tuple[str, ...]] | None = None,
) -> SupervisionDecision:
    """The first tier whose criteria hold; `evidence` maps a criterion name to its record ids."""
    evidence = evidence or {}
    latest_stars = stars.latest.stars if stars.latest else None
    facts = {
        "bad_credit": bad.current,
        "key_monitoring": stars.key_monitoring,
        "incentive_eligible": incentive_eligible,
    }
    for ct in profile.compiled().tiers:
        tier = ct.tier
        for cc in ct.conditions:
            if _holds(cc.condition, listed, facts, latest_stars, grade.grade):
                ids = tuple(dict.fromkeys(r for name in cc.used for r in evidence.get(name, ())))
                return _decision(
                    tier, f"supervision.tiers.{ct.index}.when.{cc.index}", ids, (cc.text, cc.text)
                )
        if not ct.conditions:
            return _decision(tier, f"supervision.tiers.{ct.index}", (), ("默认", "default"))
    raise AssertionError("profile validation guarantees a default tier")


def _holds(cond: TierCondition, listed, facts, stars, grade) -> bool:  # type: ignore[no-untyped-def]
    if cond.listed_on is not None and listed.isdisjoint(cond.listed_on):
        return False
    if cond.bad_credit is not None and facts["bad_credit"] != cond.bad_credit:
        return False
    if cond.key_monitoring is not None and facts["key_monitoring"] != cond.key_monitoring:
        return False
    if cond.incentive_eligible is not None and facts["incentive_eligible"] != cond.incentive_eligible:
        return False
    if cond.min_stars is not None and (stars is None or stars < cond.min_stars):
        return False
    return not (cond.max_integrity_grade is not None and (grade is None or grade > cond.max_integrity_grade))


def _decision(tier, entry, ids, text) -> SupervisionDecision:  # type: ignore[no-untyped-def]
    return SupervisionDecision(
        tier.key,
        tier.sampling_zh,
        tier.sampling_en,
        (reason(f"tier_{tier.key}", ids, entry, tier, text[0], text[1]),),
    )
