"""The policy capability's SQL: stored decisions, list entries and their events, stored standings.

Every function takes a connection inside the caller's transaction; none commits. The use
cases (what to store and when) are in `gateway.policy.service` (operators' actions) and
`gateway.policy.step` (the change-feed consumer's policy step).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, null, or_, select, update

from gateway.clock import CHINA_TZ
from gateway.domain.policy.lifecycle import IN_FORCE_STATES
from gateway.store.change_tables import subject_changes
from gateway.store.policy_tables import decisions, list_entries, list_entry_events, standings
from gateway.store.sql import Deferred, chunks, insert_ignore, write_insert_ignore, write_update
from gateway.store.tables import agencies, deployment_state, records, subjects


def new_entry_uid() -> str:
    return f"ent_{uuid.uuid4().hex}"


def get_subject(conn: Connection, subject_id: int) -> Any | None:
    return conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()


# --- decisions ----------------------------------------------------------------------------


def get_decision(conn: Connection, subject_id: int, profile: str) -> Any | None:
    return conn.execute(
        select(decisions).where(decisions.c.subject_id == subject_id, decisions.c.profile == profile)
    ).first()


def save_decision(
    conn: Connection,
    *,
    subject_id: int,
    profile: str,
    as_of: dt.date,
    body: dict[str, Any],
    digest: str,
    subject_changed_at: dt.datetime,
    now: dt.datetime,
    previous: Any | None = None,
    known: bool = False,
    writes: Deferred | None = None,
) -> bool:
    """Store the subject's decision; True when its content changed (the body is rewritten
    only then; otherwise only the day and the subject version it reflects move). With
    `known`, `previous` is the stored row already read (None: there is none); with `writes`,
    the write joins the consumer batch's deferred writes."""
    row = previous if known else get_decision(conn, subject_id, profile)
    if row is None:
        write_insert_ignore(
            conn, writes, decisions,
            [{"subject_id": subject_id, "profile": profile, "as_of": as_of, "computed_at": now, "checked_at": now,
              "subject_changed_at": subject_changed_at, "digest": digest, "body": body,
              "star_attention": star_attention(body)}],
            ("subject_id", "profile"),
        )
        return True
    if row.digest != digest:
        write_update(conn, writes, decisions, "id", row.id, {
            "as_of": as_of, "computed_at": now, "checked_at": now, "subject_changed_at": subject_changed_at,
            "digest": digest, "body": body, "star_attention": star_attention(body)})
        return True
    if row.as_of != as_of or row.subject_changed_at != subject_changed_at:
        write_update(conn, writes, decisions, "id", row.id, {
            "as_of": as_of, "checked_at": now, "subject_changed_at": subject_changed_at})
    return False


def starless_subjects(conn: Connection, profile: str) -> tuple[list[str], list[str]]:
    """(subjects whose latest rated year has no star, subjects ordered to rectify after
    consecutive star-less years), from the stored decisions flagged `star_attention`
    (indexed: at 5,000,000 decisions, reading every body's JSON took minutes)."""
    q = (
        select(subjects.c.key, decisions.c.body)
        .join(subjects, subjects.c.id == decisions.c.subject_id)
        .where(decisions.c.profile == profile, decisions.c.star_attention.is_(True))
        .order_by(subjects.c.key)
    )
    key_monitoring, rectification = [], []
    for key, body in conn.execute(q):
        stars = body.get("stars") or {}
        if stars.get("key_monitoring"):
            key_monitoring.append(key)
        if stars.get("rectification_ordered"):
            rectification.append(key)
    return key_monitoring, rectification


def star_attention(body: dict[str, Any]) -> bool:
    """Whether a decision body calls for the sweep's star report (`starless_subjects`)."""
    stars = body.get("stars") or {}
    return bool(stars.get("key_monitoring") or stars.get("rectification_ordered"))


# --- list entries -------------------------------------------------------------------------


def _entry_select():  # noqa: ANN202
    return select(list_entries, subjects.c.key.label("subject_key"), subjects.c.name.label("subject_name")).join(
        subjects, subjects.c.id == list_entries.c.subject_id
    )


def get_entry(conn: Connection, uid: str, *, for_update: bool = False) -> Any | None:
    q = _entry_select().where(list_entries.c.uid == uid)
    if for_update and conn.dialect.name == "postgresql":
        q = q.with_for_update(of=list_entries)
    return conn.execute(q).first()


def subject_entries(conn: Connection, subject_id: int, *, open_only: bool = False) -> list[Any]:
    q = _entry_select().where(list_entries.c.subject_id == subject_id)
    if open_only:
        q = q.where(list_entries.c.open_key.is_not(None))
    return list(conn.execute(q.order_by(list_entries.c.id)))


def insert_entry(conn: Connection, values: dict[str, Any]) -> Any | None:
    """Insert an entry unless an open one with the same (subject, open_key) exists; the new
    row, or None when it was a duplicate."""
    insert_ignore(conn, list_entries, [values], ("subject_id", "open_key"))
    return get_entry(conn, values["uid"])


def update_entry(conn: Connection, entry_id: int, values: dict[str, Any], *, unless_set: str | None = None) -> bool:
    """Update an entry; with `unless_set`, only while that column is still NULL (a flag set
    once). True when a row changed."""
    q = update(list_entries).where(list_entries.c.id == entry_id)
    if unless_set:
        q = q.where(list_entries.c[unless_set].is_(None))
    return conn.execute(q.values(**values)).rowcount == 1


def insert_event(
    conn: Connection,
    entry_id: int,
    *,
    from_state: str | None,
    action: str,
    to_state: str,
    actor: str,
    at: dt.datetime,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
    happened_on: dt.date | None = None,
    acting_for: str | None = None,
) -> None:
    conn.execute(list_entry_events.insert().values(
        entry_id=entry_id, from_state=from_state, action=action, to_state=to_state, actor=actor, at=at, note=note,
        detail=detail, happened_on=happened_on or at.astimezone(CHINA_TZ).date(), acting_for=acting_for))


def last_step_day(conn: Connection, entry_id: int) -> dt.date | None:
    """The day the entry's latest step happened (the latest event that made or moved it; flags
    and basis updates that leave the state are not steps)."""
    e = list_entry_events.c
    q = (select(e.happened_on, e.at).where(e.entry_id == entry_id,
                                           or_(e.from_state.is_(None), e.from_state != e.to_state,
                                               e.action == "approve"))
         .order_by(e.id.desc()).limit(1))
    row = conn.execute(q).first()
    if row is None:
        return None
    return row.happened_on or row.at.astimezone(CHINA_TZ).date()


def entry_events(conn: Connection, entry_ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {i: [] for i in entry_ids}
    if entry_ids:
        q = select(list_entry_events).where(list_entry_events.c.entry_id.in_(list(entry_ids))).order_by(
            list_entry_events.c.id)
        for row in conn.execute(q):
            out[row.entry_id].append(row)
    return out


def find_entries(
    conn: Connection,
    *,
    list_kind: str | None = None,
    state: str | None = None,
    expires_before: dt.date | None = None,
    region: str | None = None,
    subject_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Any]:
    """Entries in id order after `after_id`; `region` matches a division code or its prefix
    ("51" is every entry in Sichuan)."""
    q = _entry_select().where(list_entries.c.id > after_id)
    if list_kind:
        q = q.where(list_entries.c.list_kind == list_kind)
    if state:
        q = q.where(list_entries.c.state == state)
    if expires_before:
        q = q.where(list_entries.c.expires_on < expires_before)
    if region:
        q = q.where(list_entries.c.region.like(region_prefix(region) + "%"))
    if subject_id is not None:
        q = q.where(list_entries.c.subject_id == subject_id)
    return list(conn.execute(q.order_by(list_entries.c.id).limit(limit)))


def region_prefix(region: str) -> str:
    """The prefix a division code covers: 510000 → 51 (province), 510700 → 5107 (city)."""
    if len(region) == 6 and region.endswith("0000"):
        return region[:2]
    if len(region) == 6 and region.endswith("00"):
        return region[:4]
    return region


def ids(rows: Iterable[Any]) -> list[int]:
    return [r.id for r in rows]


def decisions_of(conn: Connection, subject_ids: Iterable[int], profile: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for part in chunks(sorted(set(subject_ids))):
        for row in conn.execute(select(decisions).where(decisions.c.subject_id.in_(part), decisions.c.profile == profile)):
            out[row.subject_id] = row
    return out


def entry_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(list, state, entries) over every entry (the metrics)."""
    le = list_entries.c
    rows = conn.execute(select(le.list_kind, le.state, func.count()).group_by(le.list_kind, le.state)).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def entries_in_force_started(conn: Connection, subject_id: int, first: dt.date, last: dt.date) -> list[Any]:
    """Entries of the subject whose period started in [first, last] (the monthly report)."""
    q = select(list_entries).where(list_entries.c.subject_id == subject_id, list_entries.c.starts_on >= first,
                                   list_entries.c.starts_on <= last).order_by(list_entries.c.id)
    return list(conn.execute(q))


def subjects_with_entries_started(conn: Connection, first: dt.date, last: dt.date) -> set[int]:
    q = select(list_entries.c.subject_id).where(list_entries.c.starts_on >= first, list_entries.c.starts_on <= last)
    return {r[0] for r in conn.execute(q.distinct())}


def entries_in_force(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(list_entries)
                        .where(list_entries.c.state.in_(IN_FORCE_STATES))).scalar_one()


# --- stored standings ---------------------------------------------------------------------


def standings_of(conn: Connection, subject_ids: Iterable[int]) -> dict[int, Any]:
    """The stored standing rows of these subjects (absent: never decided)."""
    out: dict[int, Any] = {}
    for part in chunks(sorted(set(subject_ids))):
        for row in conn.execute(select(standings).where(standings.c.subject_id.in_(part))):
            out[row.subject_id] = row
    return out


@dataclass(frozen=True)
class StoredStanding:
    """A subject, its stored standing (None: never decided yet) and whether a change is pending."""

    subject: Any
    standing: Any | None
    pending: bool


_ST = ("profile", "as_of", "restricted", "version", "checked_at", "body")
_BY = {
    name: select(subjects, *(standings.c[c].label(f"st_{c}") for c in _ST),
                 standings.c.subject_id.label("st_subject"), subject_changes.c.seq.label("pending_seq"))
    .select_from(subjects.outerjoin(standings, standings.c.subject_id == subjects.c.id)
                 .outerjoin(subject_changes, subject_changes.c.subject_id == subjects.c.id))
    .where(subjects.c[name] == bindparam("value"))
    for name in ("key", "id")
}
_SUBJECT_COLUMNS = tuple(c.name for c in subjects.c)


def stored_standing(conn: Connection, *, key: str | None = None, subject_id: int | None = None) -> StoredStanding | None:
    """One query for what a credit answer needs: the subject by key (or id), its standing, and
    whether a newer change is being decided. None when there is no such subject."""
    row = conn.execute(_BY["key" if key is not None else "id"], {"value": key if key is not None else subject_id}).first()
    if row is None:
        return None
    m = row._mapping
    subject = SimpleNamespace(**{c: m[c] for c in _SUBJECT_COLUMNS})
    standing = None if m["st_subject"] is None else SimpleNamespace(**{c: m[f"st_{c}"] for c in _ST})
    return StoredStanding(subject, standing, m["pending_seq"] is not None)


def save_standing(conn: Connection, *, subject_id: int, profile: str, as_of: dt.date, restricted: bool,
                  digest: str, body: dict[str, Any], next_change_on: dt.date | None, now: dt.datetime,
                  previous: Any | None, writes: Deferred | None = None) -> int:
    """Store the subject's standing; returns its version (moved only when the content did).
    `receivers` lists the sectors a measure of it names (",land,finance,"), so a reader that
    needs one sector's measures only decodes the bodies that have some. The subject's feed
    row is leased while this runs (no one else writes its standing), so the new version is
    the previous one plus one, written as a value (deferrable with `writes`)."""
    receivers = "".join(f",{r}" for r in sorted({m["receiver"] for m in body.get("measures", ())}))
    receivers = receivers + "," if receivers else ""
    if previous is None:
        write_insert_ignore(conn, writes, standings, [{
            "subject_id": subject_id, "profile": profile, "as_of": as_of, "restricted": restricted, "version": 1,
            "digest": digest, "next_change_on": next_change_on, "computed_at": now, "checked_at": now, "body": body,
            "receivers": receivers,
        }], ("subject_id",))
        return 1
    if previous.digest != digest or previous.profile != profile:
        write_update(conn, writes, standings, "subject_id", subject_id, {
            "profile": profile, "as_of": as_of, "restricted": restricted, "version": previous.version + 1,
            "digest": digest, "next_change_on": next_change_on, "computed_at": now, "checked_at": now, "body": body,
            "receivers": receivers})
        return previous.version + 1
    write_update(conn, writes, standings, "subject_id", subject_id, {
        "as_of": as_of, "next_change_on": next_change_on, "checked_at": now, "body": body})
    return previous.version


def standings_for_receiver(conn: Connection, subject_ids: Iterable[int], receiver: str) -> dict[int, Any]:
    """Per subject: (restricted, body or None); the body only when a measure names `receiver`
    (most bidders are clean: their bodies are never decoded)."""
    out: dict[int, Any] = {}
    named = standings.c.receivers.like(f"%,{receiver},%")
    body = case((named, standings.c.body), else_=null())  # the body travels only when it is needed
    for part in chunks(sorted(set(subject_ids))):
        out.update({sid: (restricted, doc) for sid, restricted, doc in conn.execute(
            select(standings.c.subject_id, standings.c.restricted, body).where(standings.c.subject_id.in_(part)))})
    return out


def standing_counts(conn: Connection) -> tuple[int, int]:
    """(subjects with a stored standing, of which restricted)."""
    row = conn.execute(select(func.count(), func.count().filter(standings.c.restricted.is_(True)))).one()
    return int(row[0] or 0), int(row[1] or 0)


def subjects_due(conn: Connection, day: dt.date) -> list[int]:
    """Subjects whose stored standing may change by itself on or before `day` (indexed)."""
    q = select(standings.c.subject_id).where(standings.c.next_change_on <= day).order_by(standings.c.subject_id)
    return [r[0] for r in conn.execute(q)]


# --- deployment state (what this deployment last ran with) ---------------------------------


def deployment_value(conn: Connection, key: str) -> Any | None:
    row = conn.execute(select(deployment_state.c.value).where(deployment_state.c.key == key)).first()
    return None if row is None else row[0]


def set_deployment_value(conn: Connection, key: str, value: Any, now: dt.datetime) -> None:
    if deployment_value(conn, key) is None:
        insert_ignore(conn, deployment_state, [{"key": key, "value": value, "updated_at": now}], ("key",))
    conn.execute(update(deployment_state).where(deployment_state.c.key == key).values(value=value, updated_at=now))


def providing_agencies(conn: Connection, row: Any) -> list[str]:
    """The codes of the agencies whose records the entry rests on (谁提供、谁负责)."""
    uids = list(row.record_uids or [])
    if not uids:
        return []
    q = (select(agencies.c.code).join(records, records.c.agency_id == agencies.c.id)
         .where(records.c.uid.in_(uids)).distinct().order_by(agencies.c.code))
    return [r.code for r in conn.execute(q)]


def entry_records(conn: Connection, uids: Sequence[str]) -> list[Any]:
    """The record versions an entry rests on, with their agency's code (`agency_code`)."""
    if not uids:
        return []
    q = (select(records, agencies.c.code.label("agency_code")).join(agencies, agencies.c.id == records.c.agency_id)
         .where(records.c.uid.in_(list(uids))).order_by(records.c.id))
    return list(conn.execute(q))
