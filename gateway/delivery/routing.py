"""Routing (路由): which publication items each destination gets, and what it may see of them.

Pure: a function of one subject's record versions, its decisions (`decide(...)`), the
profile's measure-to-receiver table (RULES.md §9), the destinations' subscriptions, and the
items already queued for the subject (so withdrawals and removals reach exactly the
destinations that got the original). `plan_subject` returns `PlannedItem`s; the caller
(`gateway.delivery.publication`) stores them with insert-or-ignore.

What goes where:

- 双公示 licences and penalties (RULES.md §8): `licence.publication` / `penalty.publication`
  of each current record version, to destinations subscribed to the record kind, the item
  kind and the region. A withdrawn or corrected version, or a penalty past its maximum
  publication period, becomes a `*.withdrawal` (or `repair`, when the agency's reason says
  `repaired`) referring to the earlier item, sent wherever that item was sent.
- List entries (`list.inclusion`): the bad-credit record at its level (RULES.md §3), the
  joint punishment list / blacklist and the incentive list once the policy service has
  published the entry (RULES.md §6: notice and confirmation come first), and key monitoring. A destination gets an entry when the profile names a measure for its sector
  on that list (a land bureau gets what restricts or favours land bidding, a bank what
  concerns finance), with only its own sector's measures; agencies get every list with all
  measures; credit platforms also get the bad-credit record, which has no receiver measures.
  Bad-credit entries carry their cascade (national ⇒ provincial ⇒ city ⇒ district) and go
  only to destinations whose `levels` meet it: a national record reaches every level, a
  district record stays local. An entry that no longer applies becomes a `list.removal`.
- Ratings (`rating`: star rating, integrity grade) and commitments to subscribers of those kinds.

What a destination sees: natural persons' ID numbers are masked (`idcard.mask`) for every
sector but `agency` (DESIGN.md "Answer": minimised to what that partner may see).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.domain.identifiers import idcard
from gateway.signing.items import CONTENT, ItemKind

# Sectors that see everything: supervising agencies (the level above, the providing bureau).
AGENCY_SECTORS = frozenset({"agency"})
# Sectors that receive lists without receiver measures (the bad-credit record, RULES.md §3):
# the credit platforms publish them and safety supervision acts on them.
RECORD_SECTORS = frozenset({"platform", "safety_supervision"})
# Fields holding a natural person's ID number, masked outside AGENCY_SECTORS.
PERSON_ID_FIELDS = frozenset({"XK_FR_ZJHM", "CF_FR_ZJHM", "CF_XDR_ZJHM"})
# List names the bulletin schema knows (ListName in bulletin.xsd).
LIST_NAMES = frozenset({"bad_credit", "joint_punishment", "blacklist", "incentive", "serious_dishonest", "key_monitoring"})
# Withdrawal reasons (WithdrawalReason in bulletin.xsd); an agency's free-text reason that
# starts with one of them selects it, anything else is `revoked`.
WITHDRAWAL_REASONS = ("expired", "repaired", "revoked", "corrected", "objection_upheld")

_PUBLICATION = {"licence": ItemKind.LICENCE_PUBLICATION, "penalty": ItemKind.PENALTY_PUBLICATION}
_WITHDRAWAL = {"licence": ItemKind.LICENCE_WITHDRAWAL, "penalty": ItemKind.PENALTY_WITHDRAWAL}
_DECISION_NUMBER = {"licence": "XK_WSH", "penalty": "CF_XZCFJDSWH"}


def item_id_for(destination: str, source_key: str) -> str:
    """The stable item id of `source_key` at `destination` (fits bulletin.xsd's Identifier)."""
    return "it-" + hashlib.sha256(f"{destination}\n{source_key}".encode()).hexdigest()[:40]


def region_prefix(code: str | None) -> str:
    """A GB/T 2260 code as the prefix it covers: 510000 → 51, 510700 → 5107, 510703 → 510703."""
    text = (code or "").strip()
    while len(text) >= 2 and text.endswith("00"):
        text = text[:-2]
    return text


@dataclass(frozen=True)
class Route:
    """One destination's subscription as routing reads it; empty sets mean "everything"."""

    destination: str
    sector: str | None = None
    record_kinds: frozenset[str] = frozenset()
    item_kinds: frozenset[str] = frozenset()  # ItemKind values, or families ("penalty", "list")
    regions: tuple[str, ...] = ()  # GB/T 2260 codes or prefixes
    levels: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Any) -> Route:
        """From a `DestinationConfig` (or anything with `name` and `subscription`)."""
        sub = config.subscription
        return cls(
            destination=config.name,
            sector=sub.sector,
            record_kinds=frozenset(sub.record_kinds),
            item_kinds=frozenset(sub.item_kinds),
            regions=tuple(region_prefix(r) for r in sub.regions),
            levels=frozenset(sub.levels),
        )

    def wants_item(self, kind: ItemKind) -> bool:
        if not self.item_kinds:
            return True
        return kind.value in self.item_kinds or kind.value.split(".")[0] in self.item_kinds

    def wants_record(self, record_kind: str) -> bool:
        return not self.record_kinds or record_kind in self.record_kinds

    def wants_region(self, region: str | None) -> bool:
        if not self.regions or "" in self.regions:
            return True
        code = (region or "").strip()
        return any(code.startswith(p) for p in self.regions)

    def wants_levels(self, levels: Sequence[str]) -> bool:
        """Items without a level (双公示, lists) pass; leveled ones must meet the subscription."""
        return not self.levels or not levels or bool(self.levels.intersection(levels))

    @property
    def is_agency(self) -> bool:
        return self.sector in AGENCY_SECTORS


@dataclass(frozen=True)
class SubjectView:
    key: str  # USCC or reg:<注册号>
    name: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class RecordVersion:
    """One stored version of a source record (the columns routing needs)."""

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
class _Entry:
    """A list entry the subject has now, before it is shaped for a destination."""

    source_key: str
    list_kind: str
    fields: dict[str, Any]
    levels: tuple[str, ...] = ()


# --- field views --------------------------------------------------------------------------


def view_fields(fields: Mapping[str, Any], route: Route) -> dict[str, Any]:
    """What `route`'s sector may see of an item's fields."""
    out = dict(fields)
    if not route.is_agency:
        for name in PERSON_ID_FIELDS.intersection(out):
            if out[name]:
                out[name] = idcard.mask(out[name])
    return out


def _content_fields(kind: ItemKind, data: Mapping[str, Any]) -> dict[str, Any]:
    known = {name for name, _ in CONTENT[kind][1]}
    return {k: v for k, v in data.items() if k in known and v not in (None, "", [])}


def measures_for_route(list_kind: str, measures: Mapping[str, Mapping[str, Sequence[Any]]], route: Route) -> list[dict[str, str]] | None:
    """The measures `route` takes on `list_kind`, or None when the entry is not for it."""
    table = measures.get(list_kind) or {}
    if route.is_agency or route.sector is None:
        chosen = list(table)
    elif table.get(route.sector):
        chosen = [route.sector]
    elif not table and route.sector in RECORD_SECTORS:
        chosen = []
    else:
        return None
    return [
        {"receiver": receiver, "code": f"{list_kind}_{receiver}_{i}", "text": m.text_zh}
        for receiver in chosen
        for i, m in enumerate(table.get(receiver) or ())
    ]


# --- entries from decisions ---------------------------------------------------------------


def _last_day(first_day_off: dt.date) -> dt.date:
    return first_day_off - dt.timedelta(days=1)


def _is_code(text: str) -> bool:
    """bulletin.xsd Code: [a-z0-9][a-z0-9_]{0,63} (case keys; not 'implied_by:<list>')."""
    return bool(text) and len(text) <= 64 and text[0].isalnum() and all(c.isdigit() or c == "_" or "a" <= c <= "z" for c in text)


@dataclass(frozen=True)
class ManagedEntry:
    """A list entry the policy service manages through its lifecycle (policy `list_entries`),
    in a state where it is in force publicly (published, under objection, removal requested)."""

    uid: str
    list_kind: str
    cases: tuple[str, ...]
    starts_on: dt.date | None
    expires_on: dt.date | None  # first day off the list


def list_entries(
    subject: SubjectView,
    decisions: Any,
    records: Mapping[str, RecordVersion],
    managed: Sequence[ManagedEntry] | None = None,
) -> list[_Entry]:
    """The list entries the subject is on now.

    The bad-credit record and key monitoring follow from `decisions` (a `SubjectDecisions`).
    The joint punishment list, blacklist and incentive list follow the procedure of RULES.md
    §6 (notice, confirmation, then publication): when `managed` is given they are exactly its
    entries; without it (no policy service installed) the engine's candidacy stands in."""
    key, name = subject.key, subject.name
    base = {"subject_name": name} if name else {}
    out: list[_Entry] = []
    for r in decisions.bad_credit.records:
        out.append(
            _Entry(
                f"list:{key}:bad_credit:{r.record_id}",
                "bad_credit",
                {**base, "list": "bad_credit", "level": r.level, "cases": [r.case],
                 "period_start": r.starts_on, "period_end": _last_day(r.ends_on), "decision_ref": r.record_id},
                tuple(r.levels),
            )
        )
    if managed is not None:
        for m in managed:
            if m.list_kind not in LIST_NAMES:
                continue
            fields = {**base, "list": m.list_kind, "cases": [c for c in m.cases if _is_code(c)], "decision_ref": m.uid}
            if m.starts_on:
                fields["period_start"] = m.starts_on
            if m.expires_on:
                fields["period_end"] = _last_day(m.expires_on)
            out.append(_Entry(f"list:{key}:{m.list_kind}:{m.uid}", m.list_kind, fields))
    for c in decisions.lists if managed is None else ():
        if not c.candidate or c.list_kind not in LIST_NAMES or c.period is None:
            continue
        start = c.period.starts_on
        out.append(
            _Entry(
                f"list:{key}:{c.list_kind}:{start.isoformat()}",
                c.list_kind,
                {**base, "list": c.list_kind, "cases": list(dict.fromkeys(h.code for h in c.cases)) or list(c.implied_by),
                 "period_start": start, "period_end": _last_day(c.period.expires_on)},
            )
        )
    if managed is None and decisions.incentive.eligible and not decisions.listed_on:
        anchor = next(
            (cr.record_ids[0] for cr in decisions.incentive.conditions if cr.key == "standardization_grade" and cr.record_ids),
            str(decisions.as_of.year),
        )
        out.append(_Entry(f"list:{key}:incentive:{anchor}", "incentive", {**base, "list": "incentive"}))
    if decisions.stars.key_monitoring and decisions.stars.latest is not None:
        year = decisions.stars.latest.year
        out.append(
            _Entry(
                f"list:{key}:key_monitoring:{year}",
                "key_monitoring",
                {**base, "list": "key_monitoring", "decision_ref": decisions.stars.latest.record_id},
            )
        )
    return out


def rating_items(subject: SubjectView, decisions: Any, records: Mapping[str, RecordVersion]) -> list[tuple[str, dict[str, Any]]]:
    """(source key, fields) of the subject's current ratings: latest star rating, integrity grade."""
    key, name = subject.key, subject.name
    base = {"subject_name": name} if name else {}
    out = []
    latest = decisions.stars.latest
    if latest is not None:
        out.append(
            (
                f"rating:{key}:star:{latest.year}",
                {**base, "scheme": "star", "value": str(latest.stars or 0), "score": latest.score, "year": latest.year},
            )
        )
    grade = decisions.integrity_grade
    if grade.base_grade is not None and grade.record_ids:
        rec = records.get(grade.record_ids[0])
        year = int(rec.data.get("year")) if rec is not None and rec.data.get("year") else decisions.as_of.year
        value = str(grade.grade) if grade.grade is not None else "none"
        out.append(
            (
                f"rating:{key}:integrity_grade:{year}:{value}",
                {**base, "scheme": "integrity_grade", "value": value, "year": year},
            )
        )
    return out


# --- the plan -----------------------------------------------------------------------------


def withdrawal_reason(text: str | None) -> str:
    head = (text or "").strip().lower()
    return next((r for r in WITHDRAWAL_REASONS if head.startswith(r)), "revoked")


def plan_subject(
    subject: SubjectView,
    versions: Iterable[RecordVersion],
    decisions: Any,
    measures: Mapping[str, Mapping[str, Sequence[Any]]],
    routes: Sequence[Route],
    existing: Iterable[ExistingItem],
    as_of: dt.date,
    managed: Sequence[ManagedEntry] | None = None,
) -> list[PlannedItem]:
    """Every item the subject should have queued now, per destination (the caller ignores
    what is already queued). `decisions` is `decide(...)` for the subject on `as_of`."""
    versions = list(versions)
    by_uid = {v.uid: v for v in versions}
    sent: dict[tuple[str, str], ExistingItem] = {(e.destination, e.source_key): e for e in existing}
    plan: list[PlannedItem] = []
    region = subject.region

    def add(route: Route, source_key: str, kind: ItemKind, fields: dict[str, Any], record_uid=None, ref=None) -> None:  # noqa: ANN001
        plan.append(PlannedItem(route.destination, source_key, kind, subject.key, view_fields(fields, route), record_uid, ref))

    def follow_up(source_key: str, ref_key: str, kind: ItemKind, fields: dict[str, Any], record_uid=None) -> None:  # noqa: ANN001
        """An item about an earlier one: to every destination that got the earlier one."""
        for route in routes:
            earlier = sent.get((route.destination, ref_key))
            if earlier is not None:
                add(route, source_key, kind, fields, record_uid, earlier.item_id)

    # 双公示 and commitments: one item per current record version
    expired = {p.record_id for p in decisions.penalties if p.status == "withdrawn"}
    successors = {v.supersedes_uid: v for v in versions if v.supersedes_uid}
    for v in versions:
        if v.kind in _PUBLICATION or v.kind == "commitment":
            item_kind = _PUBLICATION.get(v.kind, ItemKind.COMMITMENT)
            if v.status == "current" and v.uid not in expired:
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
            on = as_of
        elif v.status == "current" and v.uid in expired:
            reason, note, on = "expired", None, as_of
        else:
            continue
        number = v.data.get(_DECISION_NUMBER[v.kind]) or v.uid
        if reason == "repaired" and v.kind == "penalty":
            kind = ItemKind.REPAIR
            fields = {"decision_number": number, "repaired_on": on, "note": note}
        else:
            kind = _WITHDRAWAL[v.kind]
            fields = {"decision_number": number, "reason": reason, "withdrawn_on": on, "note": note}
        follow_up(f"rec:{v.uid}:withdrawal", f"rec:{v.uid}", kind, {k: x for k, x in fields.items() if x}, v.uid)

    # list entries: inclusions now, removals of what no longer applies
    entries = list_entries(subject, decisions, by_uid, managed)
    current_keys = {e.source_key for e in entries}
    for e in entries:
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
    prefix = f"list:{subject.key}:"
    gone = {
        e.source_key: e
        for e in sent.values()
        if e.kind == ItemKind.LIST_INCLUSION.value and e.source_key.startswith(prefix) and e.source_key not in current_keys
    }
    for source_key, e in gone.items():
        fields = {k: e.fields[k] for k in ("list", "level", "subject_name") if e.fields.get(k)}
        fields.update(reason="no longer applies (expired, removed or its records withdrawn)", effective_on=as_of)
        follow_up(f"{source_key}:removal", source_key, ItemKind.LIST_REMOVAL, fields)

    # ratings
    for source_key, fields in rating_items(subject, decisions, by_uid):
        for route in routes:
            if route.wants_item(ItemKind.RATING) and route.wants_region(region):
                add(route, source_key, ItemKind.RATING, fields)
    return plan
