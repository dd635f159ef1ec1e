"""A subject's standing now: which lists it is on, which measures apply, its ratings (信用状况).

Two sources for the lists, chosen by `GATEWAY_LIST_SOURCE`:

- `entries`: the published list entries (`list_entries` in force today: published, under
  objection, upheld or corrected, or with removal requested, between `starts_on` and
  `expires_on`) — what the agencies actually decided and announced;
- `decide`: the policy engine over the subject's current records (a candidate is treated as
  listed) — the stand-in until list entries are maintained;
- `auto` (default): `entries` once the policy service is wired (`services.extras["policy"]`).

Ratings (stars, 诚信等级, supervision tier) and the key-monitoring and high-rating states
always come from the engine over current records. Measures follow from the lists in force
through the profile's measure table (`measures_for`), so both sources give the same shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from gateway.access.settings import access_settings
from gateway.clock import CHINA_TZ
from gateway.domain.policy import decide
from gateway.domain.policy.measures import MeasureDecision, measures_for
from gateway.domain.policy.reasons import Reason
from gateway.domain.records import Record, RecordKind
from gateway.policy_profiles import load_profile
from gateway.store.policy_tables import list_entries
from gateway.store.sql import chunks
from gateway.store.tables import agencies, records

PUNISHMENT_LISTS = ("joint_punishment", "blacklist")
IN_FORCE = ("published", "objection", "upheld", "corrected", "removal_requested")


@dataclass(frozen=True)
class ListStanding:
    list_kind: str
    title_zh: str
    title_en: str
    listed: bool
    state: str  # an entry state, or `candidate` when computed by the engine
    starts_on: dt.date | None
    expires_on: dt.date | None
    entry: str | None  # list entry uid
    cases: tuple[str, ...]
    record_ids: tuple[str, ...]
    reasons: tuple[Reason | dict[str, Any], ...]


@dataclass
class Standing:
    subject: Any  # the subjects row
    as_of: dt.date
    profile: str
    source: str
    lists: list[ListStanding]
    measures: tuple[MeasureDecision, ...]
    decisions: Any  # SubjectDecisions
    records: list[Record] = field(default_factory=list)

    @property
    def punished(self) -> list[ListStanding]:
        return [ls for ls in self.lists if ls.listed and ls.list_kind in PUNISHMENT_LISTS]


def list_source(services: Any) -> str:
    chosen = access_settings(services).list_source
    if chosen == "auto":
        return "entries" if services.extras.get("policy") is not None else "decide"
    return chosen


def today(services: Any) -> dt.date:
    return services.clock.now().astimezone(CHINA_TZ).date()


def _current_records(conn: Connection, subjects: Sequence[Any]) -> dict[int, list[Record]]:
    keys = {s.id: s.key for s in subjects}
    out: dict[int, list[Record]] = {sid: [] for sid in keys}
    for batch in chunks(list(keys)):
        q = (select(records.c.subject_id, records.c.uid, records.c.kind, records.c.event_date, records.c.data,
                    records.c.version, records.c.status, records.c.received_at, agencies.c.code)
             .join(agencies, agencies.c.id == records.c.agency_id)
             .where(records.c.subject_id.in_(batch), records.c.status == "current"))
        for r in conn.execute(q):
            if r.event_date is None:
                continue
            out[r.subject_id].append(Record(r.uid, RecordKind(r.kind), keys[r.subject_id], r.code, r.event_date,
                                            r.data, r.version, r.status, r.received_at))
    return out


def _entries(conn: Connection, subject_ids: Iterable[int], as_of: dt.date) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for batch in chunks(list(subject_ids)):
        q = select(list_entries).where(list_entries.c.subject_id.in_(batch), list_entries.c.state.in_(IN_FORCE))
        for row in conn.execute(q):
            if (row.starts_on is None or row.starts_on <= as_of) and (row.expires_on is None or as_of < row.expires_on):
                out.setdefault(row.subject_id, []).append(row)
    return out


_EMPTY: dict[tuple[dt.date, int, int], Any] = {}


def _decide(recs: list[Record], as_of: dt.date, profile: Any, calendar: Any) -> Any:
    """`decide`, except that every subject without current records shares one answer per day:
    the engine is a pure function of the records, and most subjects a partner asks about
    have none (a bidder list of 1,000 is mostly clean)."""
    if recs:
        return decide(recs, as_of, profile, calendar)
    key = (as_of, id(profile), id(calendar))
    found = _EMPTY.get(key)
    if found is None or found[0] is not profile or found[1] is not calendar:
        if len(_EMPTY) > 64:
            _EMPTY.clear()
        found = _EMPTY[key] = (profile, calendar, decide([], as_of, profile, calendar))
    return found[2]


def standings(services: Any, conn: Connection, subjects: Sequence[Any]) -> dict[int, Standing]:
    """The standing of each subject (rows of `subjects`) today, with as few queries as possible."""
    as_of = today(services)
    profile = load_profile(services.settings.policy_profile)
    source = list_source(services)
    recs = _current_records(conn, subjects)
    entries = _entries(conn, recs, as_of) if source == "entries" else {}
    titles = _titles(profile)
    out: dict[int, Standing] = {}
    for s in subjects:
        decisions = _decide(recs[s.id], as_of, profile, services.calendar)
        if source == "entries":
            lists = _from_entries(entries.get(s.id, []), titles)
        else:
            lists = _from_engine(decisions)
        active = {ls.list_kind for ls in lists if ls.listed}
        punished = bool(active & set(PUNISHMENT_LISTS))
        if source == "decide" and decisions.incentive.eligible:
            active.add("incentive")
        if decisions.high_rating:
            active.add("high_rating")
        if decisions.stars.key_monitoring:
            active.add("key_monitoring")
        measures = measures_for(active, profile, punished=punished)
        out[s.id] = Standing(s, as_of, profile.name, source, lists, measures, decisions, recs[s.id])
    return out


INCENTIVE_TITLES = ("守信联合激励对象名单", "joint incentive list")


def _titles(profile: Any) -> dict[str, tuple[str, str]]:
    titles = {cl.kind: (cl.policy.title_zh, cl.policy.title_en) for cl in profile.compiled().lists}
    titles.setdefault("incentive", INCENTIVE_TITLES)
    return titles


def _from_engine(decisions: Any) -> list[ListStanding]:
    out = []
    for c in decisions.lists:
        period = c.period
        out.append(ListStanding(
            c.list_kind, c.title_zh, c.title_en, c.candidate, "candidate" if c.candidate else "not_listed",
            period.starts_on if (period and c.candidate) else None, period.expires_on if (period and c.candidate) else None,
            None, tuple(h.case for h in c.cases) + tuple(f"implied_by:{k}" for k in c.implied_by),
            c.record_ids, c.reasons if c.candidate else (),
        ))
    return out


def _from_entries(rows: list[Any], titles: dict[str, tuple[str, str]]) -> list[ListStanding]:
    out = []
    for row in sorted(rows, key=lambda r: (r.list_kind, r.starts_on or dt.date.min)):
        zh, en = titles.get(row.list_kind, (row.list_kind, row.list_kind))
        out.append(ListStanding(
            row.list_kind, zh, en, True, row.state, row.starts_on, row.expires_on, row.uid,
            tuple(row.cases or ()), tuple(row.record_uids or ()), tuple(row.reasons or ()),
        ))
    return out
