"""All decisions for one subject on one day under one profile (决定).

`decide(records, as_of, profile, calendar)` reads the subject's current records once and
bundles every rule of docs/policy.md: bad-credit records and levels (§3), joint punishment and
blacklist candidacy (§4, §10), incentive eligibility (§5), 诚信等级, stars and supervision
tier (§7), publication deadlines and credit repair (§8), and the receivers' measures (§9).
`SubjectDecisions.to_dict()` is what the API returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.facts import facts_from_records
from gateway.domain.policy.incentive import IncentiveDecision, incentive_eligibility, not_listed
from gateway.domain.policy.levels import BadCreditDecision, bad_credit
from gateway.domain.policy.lists import ListCandidacy, list_candidacy
from gateway.domain.policy.measures import MeasureDecision, measures_for
from gateway.domain.policy.output import Output
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.ratings import (
    IntegrityGradeDecision,
    StarRatingDecision,
    SupervisionDecision,
    integrity_grade,
    is_high_rating,
    star_ratings,
    supervision_tier,
)
from gateway.domain.policy.repair import (
    PenaltyPublication,
    PublicationDeadline,
    penalty_publication,
    publish_by,
)
from gateway.domain.records import Record


@dataclass(frozen=True, slots=True)
class SubjectDecisions(Output):
    subject: str | None
    as_of: dt.date
    profile: str
    bad_credit: BadCreditDecision
    lists: tuple[ListCandidacy, ...]
    incentive: IncentiveDecision
    integrity_grade: IntegrityGradeDecision
    stars: StarRatingDecision
    high_rating: bool
    supervision: SupervisionDecision
    penalties: tuple[PenaltyPublication, ...]
    licences: tuple[PublicationDeadline, ...]
    measures: tuple[MeasureDecision, ...]

    def list(self, kind: str) -> ListCandidacy | None:
        """The candidacy for list `kind`, or None when the profile has no such list."""
        for c in self.lists:
            if c.list_kind == kind:
                return c
        return None

    @property
    def listed_on(self) -> tuple[str, ...]:
        return tuple(c.list_kind for c in self.lists if c.candidate)


def decide(
    records: Iterable[Record],
    as_of: dt.date,
    profile: Profile,
    calendar: WorkingCalendar,
    *,
    sector: str | None = None,
) -> SubjectDecisions:
    """Every decision for the subject of `records` on `as_of`.

    `records` are one subject's records (any status; only current ones count, and only
    events on or before `as_of`). `sector` selects sector-specific publication deadlines
    (e.g. "electricity" for power-sector penalties) for records that carry no sector of their
    own (a record's sector is its agency's, else its subject's).
    """
    facts = facts_from_records(records, as_of)
    bad = bad_credit(facts, as_of, profile)
    lists = list_candidacy(facts, as_of, profile, calendar)
    # a candidacy on the unit's own records counts as being on the list (condition 6, rule 4)
    incentive = not_listed(incentive_eligibility(facts, as_of, profile),
                           [(c.list_kind, c.record_ids) for c in lists if c.candidate], profile)
    grade = integrity_grade(facts, as_of, profile, bad)
    stars = star_ratings(facts, profile)
    high = is_high_rating(stars, profile)
    listed = frozenset(c.list_kind for c in lists if c.candidate)
    evidence = {
        "listed_on": tuple(r for c in lists if c.candidate for r in c.record_ids),
        "bad_credit": tuple(r.record_id for r in bad.records),
        "key_monitoring": (stars.latest.record_id,) if stars.latest else (),
        "min_stars": (stars.latest.record_id,) if stars.latest else (),
        "max_integrity_grade": grade.record_ids,
        "incentive_eligible": tuple(r for c in incentive.conditions for r in c.record_ids),
    }
    tier = supervision_tier(
        profile,
        listed=listed,
        bad=bad,
        stars=stars,
        grade=grade,
        incentive_eligible=incentive.eligible,
        evidence=evidence,
    )
    penalties = tuple(penalty_publication(p, as_of, profile, calendar, p.sector or sector) for p in facts.penalties)
    licences = tuple(publish_by("licence", x.date, profile, calendar, x.sector or sector, x.id) for x in facts.licences)
    active = set(listed)
    if incentive.eligible:
        active.add("incentive")
    if high:
        active.add("high_rating")
    if stars.key_monitoring:
        active.add("key_monitoring")
    measures = measures_for(active, profile, punished=bool(listed))
    return SubjectDecisions(
        facts.subject,
        as_of,
        profile.name,
        bad,
        lists,
        incentive,
        grade,
        stars,
        high,
        tier,
        penalties,
        licences,
        measures,
    )
