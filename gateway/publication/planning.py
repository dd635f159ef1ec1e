"""Publication planning (路由): which items each destination gets, from one subject's stored
standing and record versions.

Pure: a function of the subject's record versions, its standing (`gateway.domain.standing`:
the lists in force, the bad-credit records, key monitoring, ratings), its list entries (to
say why a listing ended and to carry corrections), the profile's measure table (docs/policy.md
§9), the destinations' subscriptions and the items already queued for the subject (so
withdrawals, corrections and removals reach exactly the destinations that got the
original). `plan_subject` returns `PlannedItem`s; the publication step stores them with
insert-or-ignore.

What goes where:

- 双公示 licences and penalties (docs/policy.md §8): `licence.publication` / `penalty.publication`
  of each current record version, to destinations subscribed to the record kind, the item
  kind and the region. A withdrawn or corrected version, or a penalty past its maximum
  publication period, becomes a `*.withdrawal` (or `repair`, when the agency's reason says
  `repaired`) referring to the earlier item, sent wherever that item was sent.
- Lists (`list.inclusion`): the bad-credit record at its level (§3), every list entry in force
  (the procedure of §6 decides when: after notice, confirmation and publication) and key
  monitoring. A destination gets an entry when the profile names a measure for its sector
  on that list, with only its own sector's measures; agencies get every list with all
  measures; credit platforms also get the bad-credit record, which has no receiver measures.
  Bad-credit entries carry their cascade and go only to destinations whose `levels` meet it.
- An entry corrected after an objection (异议成立·更正) stays in force and each correction is
  a `list.change` to every destination that had the inclusion; a listing that ended
  (expired, removed, annulled, its basis withdrawn, revoked) becomes a `list.removal` there,
  with the reason. An objection rejected sends nothing: the listing is maintained.
- Ratings (`rating`: star rating, integrity grade) and commitments to subscribers of those kinds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.domain.standing import EntryFacts, Standing
from gateway.publication.content import CONTENT, ItemKind
from gateway.publication.views import Route, item_id_for, measures_for_route, view_fields

# List names the bulletin schema knows (ListName in bulletin.xsd).
LIST_NAMES = frozenset({"bad_credit", "joint_punishment", "blacklist", "incentive", "serious_dishonest", "key_monitoring"})
# Withdrawal reasons (WithdrawalReason in bulletin.xsd); an agency's free-text reason that
# starts with one of them selects it, anything else is `revoked`.
WITHDRAWAL_REASONS = ("expired", "repaired", "revoked", "corrected", "objection_upheld")
# Why a listing ended, by the state its entry ended in (what the removal says).
ENDED_BECAUSE = {
    "expired": "expired: its management period ended (期满移出)",
    "removed": "removed on the subject's application (申请移出)",
    "annulled": "objection accepted: the listing is annulled (异议成立，撤销)",
    "basis_withdrawn": "its records were withdrawn or no longer meet its case (依据撤销)",
    "revoked": "revoked by the listing agency (撤销)",
}
# an incentive is removed when a condition fails, not on application (`001` §三(四)2(3), rule 4)
INCENTIVE_ENDED_BECAUSE = {"removed": "a condition is no longer met: removed from the incentive list (移出守信联合激励)"}
CORRECTED_BECAUSE = "objection accepted: the listing is corrected (异议成立，更正)"

_PUBLICATION = {"licence": ItemKind.LICENCE_PUBLICATION, "penalty": ItemKind.PENALTY_PUBLICATION}
_WITHDRAWAL = {"licence": ItemKind.LICENCE_WITHDRAWAL, "penalty": ItemKind.PENALTY_WITHDRAWAL}
_DECISION_NUMBER = {"licence": "XK_WSH", "penalty": "CF_WSH"}


@dataclass(frozen=True)
class SubjectView:
    key: str  # USCC or reg:<注册号>
    name: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class RecordVersion:
    """One stored version of a source record (the columns planning needs)."""

    uid: str
    kind: str
    status: str  # current | superseded | withdrawn
    data: Mapping[str, Any]
    supersedes_uid: str | None = None
    region: str | None = None
    reason: str | None = None
    event_date: dt.date | None = None


@dataclass(frozen=True)
class ExistingItem:
    """An item already queued for the subject at some destination."""

    destination: str
    source_key: str
    item_id: str
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    state: str = "pending"


@dataclass(frozen=True)
class PlannedItem:
    destination: str
    source_key: str
    kind: ItemKind
    subject: str
    fields: dict[str, Any]
    record_uid: str | None = None
    ref_item_id: str | None = None

    @property
    def item_id(self) -> str:
        return item_id_for(self.destination, self.source_key)


@dataclass(frozen=True)
class ListItem:
    """A list entry the subject has now, before it is shaped for a destination."""

    source_key: str
    list_kind: str
    fields: dict[str, Any]
    levels: tuple[str, ...] = ()


def _content_fields(kind: ItemKind, data: Mapping[str, Any]) -> dict[str, Any]:
    known = {name for name, _ in CONTENT[kind][1]}
    return {k: v for k, v in data.items() if k in known and v not in (None, "", [])}


def _last_day(first_day_off: dt.date) -> dt.date:
    return first_day_off - dt.timedelta(days=1)


def _is_code(text: str) -> bool:
    """bulletin.xsd Code: [a-z0-9][a-z0-9_]{0,63} (case keys; not 'implied_by:<list>')."""
    return bool(text) and len(text) <= 64 and text[0].isalnum() and all(c.isdigit() or c == "_" or "a" <= c <= "z" for c in text)


def entry_key(subject: str, list_kind: str, uid: str) -> str:
    return f"list:{subject}:{list_kind}:{uid}"


def list_entries(subject: SubjectView, standing: Standing) -> list[ListItem]:
    """The list entries the subject is on now, from its standing."""
    key, name = subject.key, subject.name
    base = {"subject_name": name} if name else {}
    out: list[ListItem] = []
    for r in standing.bad_credit:
        out.append(ListItem(
            f"list:{key}:bad_credit:{r.record_id}", "bad_credit",
            {**base, "list": "bad_credit", "level": r.level, "cases": [r.case], "period_start": r.starts_on,
             "period_end": _last_day(r.ends_on), "decision_ref": r.record_id},
            tuple(r.levels)))
    for ls in standing.lists:
        if ls.list_kind not in LIST_NAMES:
            continue
        fields = {**base, "list": ls.list_kind, "cases": [c for c in ls.cases if _is_code(c)], "decision_ref": ls.entry}
        if ls.starts_on:
            fields["period_start"] = ls.starts_on
        if ls.expires_on:
            fields["period_end"] = _last_day(ls.expires_on)
        out.append(ListItem(entry_key(key, ls.list_kind, ls.entry), ls.list_kind, fields))
    if standing.key_monitoring:
        km = standing.key_monitoring
        out.append(ListItem(f"list:{key}:key_monitoring:{km['year']}", "key_monitoring",
                          {**base, "list": "key_monitoring", "decision_ref": km["record_id"]}))
    return out


def report_entries(subject: SubjectView, bad_credit: Sequence[Any], started: Sequence[EntryFacts]) -> list[ListItem]:
    """The inclusions of a monthly report: bad-credit records and list entries as they were
    when their period started (an entry that has ended since still counts)."""
    key, name = subject.key, subject.name
    base = {"subject_name": name} if name else {}
    out = [ListItem(f"list:{key}:bad_credit:{r.record_id}", "bad_credit",
                    {**base, "list": "bad_credit", "level": r.level, "cases": [r.case], "period_start": r.starts_on,
                     "period_end": _last_day(r.ends_on), "decision_ref": r.record_id}, tuple(r.levels))
           for r in bad_credit]
    for e in started:
        if e.list_kind not in LIST_NAMES:
            continue
        fields = {**base, "list": e.list_kind, "cases": [c for c in e.cases if _is_code(c)], "decision_ref": e.uid,
                  "period_start": e.starts_on}
        if e.expires_on:
            fields["period_end"] = _last_day(e.expires_on)
        out.append(ListItem(entry_key(key, e.list_kind, e.uid), e.list_kind, fields))
    return out


def rating_items(subject: SubjectView, standing: Standing, records: Mapping[str, RecordVersion]
                 ) -> list[tuple[str, dict[str, Any]]]:
    """(source key, fields) of the subject's current ratings: latest star rating, integrity grade."""
    key, name = subject.key, subject.name
    base = {"subject_name": name} if name else {}
    out = []
    stars = standing.ratings.get("stars")
    if stars is not None:
        out.append((f"rating:{key}:star:{stars['year']}",
                    {**base, "scheme": "star", "value": str(stars["stars"] or 0), "score": stars["score"],
                     "year": stars["year"]}))
    grade = standing.ratings.get("integrity_grade") or {}
    ids = grade.get("record_ids") or ()
    if grade.get("base_grade") is not None and ids:
        rec = records.get(ids[0])
        year = int(rec.data.get("year")) if rec is not None and rec.data.get("year") else standing.as_of.year
        value = str(grade["grade"]) if grade.get("grade") is not None else "none"
        out.append((f"rating:{key}:integrity_grade:{year}:{value}",
                    {**base, "scheme": "integrity_grade", "value": value, "year": year}))
    return out


def withdrawal_reason(text: str | None) -> str:
    head = (text or "").strip().lower()
    return next((r for r in WITHDRAWAL_REASONS if head.startswith(r)), "revoked")


def plan_subject(
    subject: SubjectView,
    versions: Iterable[RecordVersion],
    standing: Standing,
    entries: Sequence[EntryFacts],
    measures: Mapping[str, Mapping[str, Sequence[Any]]],
    routes: Sequence[Route],
    existing: Iterable[ExistingItem],
    as_of: dt.date,
    *,
    publication_ended: frozenset[str] = frozenset(),
    repaired: frozenset[str] = frozenset(),
) -> list[PlannedItem]:
    """Every item the subject should have queued now, per destination (the caller ignores what
    is already queued). `publication_ended`: penalties past their maximum publication period;
    `repaired`: penalties whose credit repair was approved (a `repair` item where they went)."""
    versions = list(versions)
    by_uid = {v.uid: v for v in versions}
    # what was queued and not quarantined is what a destination has (or will have)
    sent: dict[tuple[str, str], ExistingItem] = {
        (e.destination, e.source_key): e for e in existing if e.state != "quarantined"}
    plan: list[PlannedItem] = []
    region = subject.region

    def add(route: Route, source_key: str, kind: ItemKind, fields: dict[str, Any], record_uid=None, ref=None) -> None:  # noqa: ANN001
        plan.append(PlannedItem(route.destination, source_key, kind, subject.key, view_fields(fields, route), record_uid, ref))

    def follow_up(source_key: str, ref_key: str, kind: ItemKind, fields: dict[str, Any], record_uid=None,
                  with_measures: str | None = None) -> None:  # noqa: ANN001
        """An item about an earlier one: to every destination that got the earlier one."""
        for route in routes:
            earlier = sent.get((route.destination, ref_key))
            if earlier is None:
                continue
            out = dict(fields)
            if with_measures:
                chosen = measures_for_route(with_measures, measures, route)
                if chosen:
                    out["measures"] = chosen
            add(route, source_key, kind, out, record_uid, earlier.item_id)

    # 双公示 and commitments: one item per current record version
    successors = {v.supersedes_uid: v for v in versions if v.supersedes_uid}
    for v in versions:
        if v.kind in _PUBLICATION or v.kind == "commitment":
            item_kind = _PUBLICATION.get(v.kind, ItemKind.COMMITMENT)
            if v.status == "current" and v.uid not in publication_ended and v.uid not in repaired:
                fields = _content_fields(item_kind, v.data)
                for route in routes:
                    if route.wants_record(v.kind) and route.wants_item(item_kind) and route.wants_region(v.region or region):
                        add(route, f"rec:{v.uid}", item_kind, fields, v.uid)
        if v.kind not in _PUBLICATION:
            continue
        # a version that is no longer published: withdrawn, corrected, or past its period
        successor = successors.get(v.uid)
        if v.status == "superseded" and successor is not None:
            reason = "corrected" if successor.status == "current" else withdrawal_reason(successor.reason)
            note = successor.reason if successor.status != "current" else None
        elif v.status == "current" and v.uid in repaired:
            reason, note = "repaired", "信用修复 approved on the subject's application"
        elif v.status == "current" and v.uid in publication_ended:
            reason, note = "expired", None
        else:
            continue
        number = v.data.get(_DECISION_NUMBER[v.kind]) or v.uid
        if reason == "repaired" and v.kind == "penalty":
            kind = ItemKind.REPAIR
            fields = {"decision_number": number, "repaired_on": as_of, "note": note}
        else:
            kind = _WITHDRAWAL[v.kind]
            fields = {"decision_number": number, "reason": reason, "withdrawn_on": as_of, "note": note}
        follow_up(f"rec:{v.uid}:withdrawal", f"rec:{v.uid}", kind, {k: x for k, x in fields.items() if x}, v.uid)

    # lists: inclusions now, corrections of those in force, removals of what ended
    now_on = list_entries(subject, standing)
    current_keys = {e.source_key for e in now_on}
    for e in now_on:
        for route in routes:
            if not (route.wants_item(ItemKind.LIST_INCLUSION) and route.wants_region(region) and route.wants_levels(e.levels)):
                continue
            chosen = measures_for_route(e.list_kind, measures, route)
            if chosen is None:
                continue
            fields = dict(e.fields)
            if chosen:
                fields["measures"] = chosen
            add(route, e.source_key, ItemKind.LIST_INCLUSION, fields)
    shaped = {e.source_key: e.fields for e in now_on}
    for ls in standing.lists:
        key = entry_key(subject.key, ls.list_kind, ls.entry)
        for revision in range(1, ls.revision + 1):
            fields = dict(shaped.get(key, {"list": ls.list_kind}))
            fields.update(reason=(ls.correction_note if revision == ls.revision and ls.correction_note
                                  else CORRECTED_BECAUSE), effective_on=as_of)
            follow_up(f"{key}:revision:{revision}", key, ItemKind.LIST_CHANGE, fields, with_measures=ls.list_kind)
    ended = {entry_key(subject.key, e.list_kind, e.uid): e for e in entries}
    prefix = f"list:{subject.key}:"
    gone = {
        e.source_key: e
        for e in sent.values()
        if e.kind == ItemKind.LIST_INCLUSION.value and e.source_key.startswith(prefix) and e.source_key not in current_keys
    }
    for source_key, e in gone.items():
        fields = {k: e.fields[k] for k in ("list", "level", "subject_name") if e.fields.get(k)}
        entry = ended.get(source_key)
        because = (INCENTIVE_ENDED_BECAUSE.get(entry.state) if entry is not None and entry.list_kind == "incentive"
                   else None) or (ENDED_BECAUSE.get(entry.state) if entry is not None else None)
        fields.update(reason=because or "no longer applies (its period ended or its records were withdrawn)",
                      effective_on=as_of)
        follow_up(f"{source_key}:removal", source_key, ItemKind.LIST_REMOVAL, fields)

    # ratings
    for source_key, fields in rating_items(subject, standing, by_uid):
        for route in routes:
            if route.wants_item(ItemKind.RATING) and route.wants_region(region):
                add(route, source_key, ItemKind.RATING, fields)
    return plan
