"""A subject's standing (信用状况): what every answer and every publication says of it, computed
once per change by the change-feed consumer and stored (`gateway.policy`).

Pure: a function of the subject's list entries (the procedure's truth: docs/policy.md §6), its
decisions (`decide`), its current records and the profile. What it holds:

- `lists`: the list entries in force on `as_of` (published and not ended, between their start
  and expiry; the states come from `gateway.domain.policy.lifecycle`), with cases, records
  and reasons;
- `bad_credit`: the bad-credit records at their level and cascade (docs/policy.md §3), and
  `key_monitoring`: the latest rated year without a star (§7);
- `measures`: what each receiving sector applies (§9): the profile's measures for the lists
  in force, for a high rating and for key monitoring; a unit on a punishment list gets no
  reward (`001` §三(四)2(3));
- `ratings`: stars, 诚信等级, the supervision tier (decided on the lists in force, not on a
  candidacy) and incentive eligibility;
- `persons`: the responsible persons named in the records behind a listing (§1);
- `next_change_on`: the first day after `as_of` on which any of this can change by itself
  (an expiry, a window opening, a record ageing out of a lookback, a record dated later):
  the daily sweep recomputes the subject on that day and not before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from gateway.domain.identifiers import idcard
from gateway.domain.policy.decide import SubjectDecisions
from gateway.domain.policy.levels import BadCreditRecord
from gateway.domain.policy.lifecycle import PUNISHMENT_LISTS, is_final, is_in_force
from gateway.domain.policy.measures import MeasureDecision, measures_for
from gateway.domain.policy.output import Output, field_names
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.ratings import supervision_tier
from gateway.domain.policy.spans import Span
from gateway.domain.records import Record, RecordKind

INCENTIVE_TITLES = ("守信联合激励对象名单", "joint incentive list")


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """A list entry as the standing and the procedure read it (a `list_entries` row)."""

    uid: str
    list_kind: str
    state: str
    cases: tuple[str, ...] = ()
    record_uids: tuple[str, ...] = ()
    reasons: tuple[Any, ...] = ()
    starts_on: dt.date | None = None
    expires_on: dt.date | None = None  # the first day the entry no longer applies
    removal_window_opens_on: dt.date | None = None
    early_removal_from: dt.date | None = None
    reapply_from: dt.date | None = None
    removal_window_flagged_on: dt.date | None = None
    reapply_window_flagged_on: dt.date | None = None
    origin_uid: str | None = None
    revision: int = 0  # corrections published (异议成立·更正)
    correction_note: str | None = None

    def in_force_on(self, day: dt.date) -> bool:
        return (
            is_in_force(self.list_kind, self.state)
            and (self.starts_on is None or self.starts_on <= day)
            and (self.expires_on is None or day < self.expires_on)
        )


@dataclass(frozen=True, slots=True)
class ListStanding(Output):
    list_kind: str
    title_zh: str
    title_en: str
    state: str
    entry: str
    starts_on: dt.date | None
    expires_on: dt.date | None
    cases: tuple[str, ...]
    record_ids: tuple[str, ...]
    reasons: tuple[Any, ...]
    revision: int = 0
    correction_note: str | None = None


@dataclass(frozen=True, slots=True)
class Person(Output):
    role: str
    name: str | None
    id_number: str | None
    record_id: str
    key: str | None = None  # person:<digest of the ID number>: one person across records
    roles: tuple[str, ...] = ()
    agency: str | None = None  # the providing agency: the only one that sees the full ID number
    record_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Standing(Output):
    subject: str | None
    as_of: dt.date
    profile: str
    lists: tuple[ListStanding, ...]
    bad_credit: tuple[BadCreditRecord, ...]
    key_monitoring: dict[str, Any] | None
    measures: tuple[MeasureDecision, ...]
    ratings: dict[str, Any]
    persons: tuple[Person, ...]
    next_change_on: dt.date | None = field(default=None)

    @property
    def restricted(self) -> bool:
        return any(ls.list_kind in PUNISHMENT_LISTS for ls in self.lists)

    def body(self) -> dict[str, Any]:
        """The stored JSON (what readers render), with `standing` spelled out."""
        out = self.to_dict()
        out["standing"] = "restricted" if self.restricted else "clear"
        return out

    def digest(self, body: dict[str, Any] | None = None) -> str:
        """The content digest: the body (`body()`, passed when already made) without the day it
        was computed on."""
        content = {k: v for k, v in (body or self.body()).items() if k not in ("as_of", "next_change_on")}
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def list_titles(profile: Profile) -> dict[str, tuple[str, str]]:
    titles = {cl.kind: (cl.policy.title_zh, cl.policy.title_en) for cl in profile.compiled().lists}
    titles.setdefault("incentive", INCENTIVE_TITLES)
    return titles


def compute_standing(
    subject: str | None,
    as_of: dt.date,
    decisions: SubjectDecisions,
    entries: Sequence[EntryFacts],
    records: Sequence[Record],
    profile: Profile,
) -> Standing:
    """The subject's standing on `as_of` from its entries, decisions and current records."""
    titles = list_titles(profile)
    lists = []
    for e in sorted((e for e in entries if e.in_force_on(as_of)), key=lambda e: (e.list_kind, e.starts_on or dt.date.min)):
        zh, en = titles.get(e.list_kind, (e.list_kind, e.list_kind))
        lists.append(ListStanding(e.list_kind, zh, en, e.state, e.uid, e.starts_on, e.expires_on, tuple(e.cases),
                                  tuple(e.record_uids), tuple(e.reasons), e.revision, e.correction_note))
    listed = frozenset(ls.list_kind for ls in lists)
    punished = bool(listed & set(PUNISHMENT_LISTS))
    active = set(listed)
    if decisions.high_rating:
        active.add("high_rating")
    if decisions.stars.key_monitoring:
        active.add("key_monitoring")
    measures = measures_for(active, profile, punished=punished)
    latest = decisions.stars.latest
    key_monitoring = ({"year": latest.year, "record_id": latest.record_id}
                      if decisions.stars.key_monitoring and latest is not None else None)
    tier = supervision_tier(
        profile,
        listed=frozenset(k for k in listed if k != "incentive"),
        bad=decisions.bad_credit,
        stars=decisions.stars,
        grade=decisions.integrity_grade,
        incentive_eligible=decisions.incentive.eligible,
        evidence={"listed_on": tuple(r for ls in lists for r in ls.record_ids),
                  "bad_credit": tuple(r.record_id for r in decisions.bad_credit.records),
                  "key_monitoring": (latest.record_id,) if latest else (),
                  "min_stars": (latest.record_id,) if latest else (),
                  "max_integrity_grade": decisions.integrity_grade.record_ids,
                  "incentive_eligible": tuple(r for c in decisions.incentive.conditions for r in c.record_ids)},
    )
    grade = decisions.integrity_grade
    ratings = {
        "stars": None if latest is None else {"year": latest.year, "stars": latest.stars, "score": str(latest.score),
                                              "key_monitoring": latest.key_monitoring},
        "integrity_grade": {"grade": grade.grade, "base_grade": grade.base_grade, "action": grade.action,
                            "record_ids": list(grade.record_ids)},
        "supervision": {"tier": tier.tier, "sampling_zh": tier.sampling_zh, "sampling_en": tier.sampling_en},
        "high_rating": decisions.high_rating,
        "incentive_eligible": decisions.incentive.eligible,
    }
    return Standing(
        subject, as_of, profile.name, tuple(lists), decisions.bad_credit.records, key_monitoring, measures, ratings,
        _persons(lists, records), next_change_on(as_of, decisions, entries, records, profile),
    )


def _persons(lists: Iterable[ListStanding], records: Sequence[Record]) -> tuple[Person, ...]:
    return responsible_persons(records, {rid for ls in lists for rid in ls.record_ids})


def responsible_persons(records: Sequence[Record], behind: set[str] | frozenset[str]) -> tuple[Person, ...]:
    """The responsible persons named in the records `behind` a listing (法定代表人、主要负责人、
    分管安全负责人, `001` §三(一)6), one per ID number (roles and records merged)."""
    found: dict[str, Person] = {}
    out: list[Person] = []
    for rec in records:
        if rec.id not in behind:
            continue
        named = [(p.get("role"), p.get("name"), p.get("id_number")) for p in rec.data.get("responsible_persons") or ()]
        number = rec.data.get("person_id_number") or rec.data.get("CF_XDR_ZJHM")
        name = rec.data.get("person_name")
        if number or name:
            named.insert(0, (rec.data.get("person_role", "unit"), name, number))
        for role, name, number in named:
            key = idcard.person_key(number) if number else None
            have = found.get(key) if key else None
            if have is None:
                person = Person(role, name, number, rec.id, key, (role,), rec.agency, (rec.id,))
                out.append(person)
                if key:
                    found[key] = person
                continue
            merged = Person(have.role, have.name or name, have.id_number, have.record_id, key,
                            tuple(dict.fromkeys((*have.roles, role))), have.agency,
                            tuple(dict.fromkeys((*have.record_ids, rec.id))))
            out[out.index(have)] = merged
            found[key] = merged
    return tuple(out)


# --- when the standing changes by itself ---------------------------------------------------


def next_change_on(
    as_of: dt.date,
    decisions: SubjectDecisions,
    entries: Sequence[EntryFacts],
    records: Sequence[Record],
    profile: Profile,
) -> dt.date | None:
    """The first day after `as_of` on which the standing may change without a new record.

    Deliberately generous (a superset of the days that matter, never a subset): every date
    after `as_of` in the decisions (periods ending, publication periods, deadlines), every
    date of an open entry (its start, expiry and windows not yet flagged), and for every
    current record its own date when it lies ahead and that date shifted by every period and
    window the profile states (when a record ages out of a lookback or a list's window), the
    first day of a rated year still ahead, and the day after a standardization grade lapses.
    A day too many costs one recomputation; a day too few would leave a standing stale."""
    days: set[dt.date] = set()
    _dates_in(decisions, days)
    for e in entries:
        if is_final(e.list_kind, e.state):
            continue
        for day in (e.starts_on, e.expires_on, e.reapply_from if e.reapply_window_flagged_on is None else None,
                    e.removal_window_opens_on if e.removal_window_flagged_on is None else None,
                    e.early_removal_from if e.removal_window_flagged_on is None else None):
            if day is not None:
                days.add(day)
    spans = profile_spans(profile)
    for r in records:
        if r.status != "current":
            continue
        if r.kind is RecordKind.INTEGRITY_SCORE:
            year = _int(r.data.get("year"))
            if year and year > as_of.year:
                days.add(dt.date(year, 1, 1))
            continue
        if r.event_date is None:
            continue
        days.add(r.event_date)
        for span in spans:
            end = span.after(r.event_date)
            days.add(end)
            days.add(end + dt.timedelta(days=1))
        valid_until = r.data.get("valid_until")
        if isinstance(valid_until, str):
            with contextlib.suppress(ValueError):
                days.add(dt.date.fromisoformat(valid_until) + dt.timedelta(days=1))
    ahead = [d for d in days if d > as_of]
    return min(ahead) if ahead else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _dates_in(value: Any, out: set[dt.date]) -> None:
    if isinstance(value, dt.date):
        out.add(value if not isinstance(value, dt.datetime) else value.date())
    elif isinstance(value, (tuple, list)):
        for v in value:
            if type(v) not in _NO_DATES:
                _dates_in(v, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in field_names(type(value)):
            v = getattr(value, name)
            if type(v) not in _NO_DATES:
                _dates_in(v, out)


_NO_DATES = frozenset((str, int, float, bool, type(None), Decimal))  # exact types (an Enum is never a date)


_SPANS: dict[int, tuple[Profile, tuple[Span, ...]]] = {}


def profile_spans(profile: Profile) -> tuple[Span, ...]:
    """Every period and window the profile states (cached per profile object)."""
    hit = _SPANS.get(id(profile))
    if hit is not None and hit[0] is profile:
        return hit[1]
    found: dict[tuple[int, int, int], Span] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Span):
            found[(node.years, node.months, node.days)] = node
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                walk(getattr(node, name))
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)

    walk(profile)
    spans = tuple(found.values())
    if len(_SPANS) > 32:
        _SPANS.clear()
    _SPANS[id(profile)] = (profile, spans)
    return spans
