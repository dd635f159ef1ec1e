"""A subject's records as the plain facts the rules read (事实).

`Record.data` holds the normalised JSON fields (`to_jsonable(validate_data(...))`). The
engine reads them here, once per decision, into small typed tuples, without re-running
pydantic validation: deciding for 100,000 subjects must not validate a million records
again. Only current records whose event date is on or before `as_of` count (integrity
scores count by year, since their event date is the year's last day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from gateway.domain.records import ACCIDENT_GRADE_ALIASES, Record, RecordKind

GRADE_ORDER = {"general": 0, "larger": 1, "major": 2, "especially_major": 3}
_STD_GRADES = {"一级": 1, "二级": 2, "三级": 3}


class AccidentFact(NamedTuple):
    id: str
    date: dt.date
    grade: int  # GRADE_ORDER: 0 一般 .. 3 特别重大
    deaths: int
    injuries: int
    responsibility: bool
    egregious: bool
    occupational_disease_cases: int


class ViolationFact(NamedTuple):
    id: str
    date: dt.date
    case: str
    role: str


class PenaltyFact(NamedTuple):
    id: str
    date: dt.date
    serious: bool
    authority: str
    sector: str | None = None  # which sector deadlines apply (docs/policy.md §8)


class LicenceFact(NamedTuple):
    id: str
    date: dt.date
    sector: str | None = None


class GradeFact(NamedTuple):
    id: str
    date: dt.date
    year: int
    grade: int
    valid_until: dt.date | None


class ScoreFact(NamedTuple):
    id: str
    year: int
    score: Decimal
    veto_items: tuple[str, ...]


class CommitmentFact(NamedTuple):
    id: str
    date: dt.date
    published: bool
    kept: bool
    role: str


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    subject: str | None
    accidents: tuple[AccidentFact, ...] = ()
    violations: tuple[ViolationFact, ...] = ()
    penalties: tuple[PenaltyFact, ...] = ()
    licences: tuple[LicenceFact, ...] = ()
    grades: tuple[GradeFact, ...] = ()
    scores: tuple[ScoreFact, ...] = ()
    commitments: tuple[CommitmentFact, ...] = ()


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _grade(value: Any) -> int:
    text = str(value)
    return GRADE_ORDER[ACCIDENT_GRADE_ALIASES.get(text, text)]


def _std_grade(value: Any) -> int:
    if isinstance(value, str) and value in _STD_GRADES:
        return _STD_GRADES[value]
    return int(value)


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _list(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def facts_from_records(records: Iterable[Record], as_of: dt.date) -> SubjectFacts:
    """The current records of one subject on `as_of`, as facts sorted by date.

    Raises ValueError when the records belong to more than one subject.
    """
    subject: str | None = None
    acc: list[AccidentFact] = []
    vio: list[ViolationFact] = []
    pen: list[PenaltyFact] = []
    lic: list[LicenceFact] = []
    grd: list[GradeFact] = []
    sco: list[ScoreFact] = []
    com: list[CommitmentFact] = []
    for r in records:
        if subject is None:
            subject = r.subject
        elif r.subject != subject:
            raise ValueError(f"records of two subjects ({subject}, {r.subject}) in one decision")
        if r.status != "current":
            continue
        d = r.data
        kind = r.kind
        if kind == RecordKind.INTEGRITY_SCORE:
            year = int(d["year"])
            if year <= as_of.year:
                sco.append(ScoreFact(r.id, year, Decimal(str(d["score"])), _list(d.get("veto_items"))))
            continue
        if r.event_date > as_of:
            continue
        if kind == RecordKind.ACCIDENT:
            acc.append(
                AccidentFact(
                    r.id,
                    r.event_date,
                    _grade(d["grade"]),
                    int(d.get("deaths", 0)),
                    int(d.get("injuries", 0)),
                    _bool(d, "responsibility", True),
                    _bool(d, "egregious", False),
                    int(d.get("occupational_disease_cases", 0)),
                )
            )
        elif kind == RecordKind.VIOLATION:
            vio.append(ViolationFact(r.id, r.event_date, str(d["case"]), str(d.get("person_role", "unit"))))
        elif kind == RecordKind.PENALTY:
            pen.append(PenaltyFact(r.id, r.event_date, _bool(d, "serious", False), str(d.get("CF_CFJG", "")), r.sector))
        elif kind == RecordKind.LICENCE:
            lic.append(LicenceFact(r.id, r.event_date, r.sector))
        elif kind == RecordKind.STANDARDIZATION_GRADE:
            grd.append(
                GradeFact(
                    r.id, r.event_date, int(d["year"]), _std_grade(d["grade"]), _date(d.get("valid_until"))
                )
            )
        elif kind == RecordKind.COMMITMENT:
            com.append(
                CommitmentFact(
                    r.id,
                    r.event_date,
                    bool(d.get("published_at")),
                    _bool(d, "kept", True),
                    str(d.get("committer_role", "unit")),
                )
            )
    key = _by_date
    return SubjectFacts(
        subject,
        tuple(sorted(acc, key=key)),
        tuple(sorted(vio, key=key)),
        tuple(sorted(pen, key=key)),
        tuple(sorted(lic, key=key)),
        tuple(sorted(grd, key=lambda g: (g.year, g.date, g.id))),
        tuple(sorted(sco, key=lambda s: (s.year, s.id))),
        tuple(sorted(com, key=key)),
    )


def _by_date(fact: Any) -> tuple[dt.date, str]:
    return (fact.date, fact.id)
