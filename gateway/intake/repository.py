"""SQL for intake: agencies, subject resolution, record versions, idempotency keys."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ARRAY, Connection, String, and_, bindparam, func, literal_column, select, true, update

from gateway.store.sql import chunks, executemany, insert_ignore, insert_many, one_of
from gateway.store.tables import (
    agencies,
    idempotency_keys,
    records,
    subject_identifiers,
    subject_names,
    subjects,
)


def new_uid(prefix: str) -> str:
    # 32 random hex digits, as uuid4().hex gave (128 random bits, not 122), in a third of the
    # time: every stored record takes one
    return f"{prefix}_{secrets.token_hex(16)}"


# --- agencies ------------------------------------------------------------------------

def get_agency(conn: Connection, code: str) -> Any | None:
    return conn.execute(select(agencies).where(agencies.c.code == code)).first()


def upsert_agency(conn: Connection, *, code: str, name: str, region: str, level: str, uscc: str | None, now: dt.datetime,
                  sector: str | None = None) -> int:
    row = get_agency(conn, code)
    if row is None:
        return conn.execute(
            agencies.insert().values(code=code, name=name, region=region, level=level, uscc=uscc, sector=sector,
                                     created_at=now)
        ).inserted_primary_key[0]
    conn.execute(
        update(agencies).where(agencies.c.id == row.id).values(name=name, region=region, level=level, uscc=uscc,
                                                               sector=sector)
    )
    return row.id


def set_subject_sectors(conn: Connection, sectors: dict[int, str]) -> None:
    """The subject's industry, as its latest record states it (sector deadlines, §8)."""
    for subject_id, sector in sectors.items():
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(sector=sector))


def subject_sectors(conn: Connection, subject_ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for wanted in one_of(conn, subjects.c.id, subject_ids):
        out.update(conn.execute(select(subjects.c.id, subjects.c.sector).where(wanted, subjects.c.sector.is_not(None))).all())
    return out


def list_agencies(conn: Connection) -> list[Any]:
    return list(conn.execute(select(agencies).order_by(agencies.c.code)))


# --- subjects ------------------------------------------------------------------------

def _subject_ids_by_key(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for wanted in one_of(conn, subjects.c.key, keys):
        found.update(conn.execute(select(subjects.c.key, subjects.c.id).where(wanted)).all())  # (key, id) rows
    return found


def _subjects_by_identifier(conn: Connection, scheme: str, values: Iterable[str]) -> dict[str, tuple[int, str]]:
    """identifier value -> (subject id, subject key)"""
    found: dict[str, tuple[int, str]] = {}
    for wanted in one_of(conn, subject_identifiers.c.value, values):
        q = (
            select(subject_identifiers.c.value, subjects.c.id, subjects.c.key)
            .join(subjects, subjects.c.id == subject_identifiers.c.subject_id)
            .where(subject_identifiers.c.scheme == scheme, wanted)
        )
        for value, subject_id, key in conn.execute(q):
            found[value] = (subject_id, key)
    return found


def resolve_subjects(conn: Connection, wanted: Sequence[Any], now: dt.datetime) -> tuple[dict[str, int], set[int]]:
    """Map each prepared record's subject key to a subject id, creating subjects as needed.

    Legacy keys (`org:`/`reg:`) find the subject that carries that identifier. A USCC whose
    embedded organisation code (or whose 注册号) belongs to a subject known so far only by
    that legacy identifier upgrades that subject in place, so its history follows it.
    """
    by_key: dict[str, Any] = {}
    for p in wanted:
        by_key.setdefault(p.subject_key, p)
    result = _subject_ids_by_key(conn, by_key)
    known = set(result.values())  # subjects that existed before: their implied identifiers are stored
    missing = [p for k, p in by_key.items() if k not in result]
    if not missing:
        return result, known

    org_values = {p.org_code for p in missing if p.org_code}
    reg_values = {p.reg_no for p in missing if p.reg_no}
    by_org = _subjects_by_identifier(conn, "org_code", org_values)
    by_reg = _subjects_by_identifier(conn, "reg_no", reg_values)
    to_create = []
    for p in missing:
        legacy = (by_org.get(p.org_code) if p.org_code else None) or (by_reg.get(p.reg_no) if p.reg_no else None)
        if legacy is not None:
            subject_id, legacy_key = legacy
            if p.uscc and legacy_key[:4] not in ("org:", "reg:"):
                legacy = None  # identifier already belongs to another USCC: a data conflict, keep them apart
            elif p.uscc:  # upgrade the legacy-keyed subject to its USCC
                conn.execute(
                    update(subjects)
                    .where(subjects.c.id == subject_id)
                    .values(key=p.subject_key, uscc=p.uscc, category=p.category, region=p.region, changed_at=now)
                )
                result[p.subject_key] = subject_id
                continue
            else:
                result[p.subject_key] = subject_id
                continue
        to_create.append(p)
    if to_create:
        insert_ignore(
            conn,
            subjects,
            [
                {
                    "key": p.subject_key,
                    "uscc": p.uscc,
                    "category": p.category,
                    "name": p.name,
                    "region": p.region,
                    "display_id": p.display_id,
                    "created_at": now,
                    "changed_at": now,
                }
                for p in to_create
            ],
            ["key"],
        )
        result.update(_subject_ids_by_key(conn, (p.subject_key for p in to_create)))
    return result, known


def record_identifiers_and_names(
    conn: Connection, rows: Sequence[tuple[int, Any]], now: dt.datetime, known_subjects: set[int] = frozenset()
) -> None:
    """Remember every identifier and name seen for a subject (aliases) and mark it changed.

    A subject that existed before this batch already carries the identifiers its USCC
    implies; only identifiers sent explicitly (a 注册号) can be new for it.
    """
    ids, names, touched = [], [], {}
    for subject_id, p in rows:
        schemes = (("reg_no", p.reg_no),) if subject_id in known_subjects else (
            ("uscc", p.uscc), ("org_code", p.org_code), ("reg_no", p.reg_no))
        for scheme, value in schemes:
            if value:
                ids.append({"subject_id": subject_id, "scheme": scheme, "value": value, "first_seen_at": now})
        if p.name:
            names.append({"subject_id": subject_id, "name": p.name, "first_seen_at": now})
        if p.name or subject_id not in touched:
            touched[subject_id] = p.name
    insert_ignore(conn, subject_identifiers, _dedupe(ids, ("scheme", "value")), ["scheme", "value"])
    insert_ignore(conn, subject_names, _dedupe(names, ("subject_id", "name")), ["subject_id", "name"])
    if touched:
        executemany(conn, "subjects.seen", lambda: (
            update(subjects)
            .where(subjects.c.id == bindparam("sid"))
            .values(name=func.coalesce(bindparam("nm"), subjects.c.name), changed_at=bindparam("now"))
        ), [{"sid": sid, "nm": name, "now": now} for sid, name in touched.items()])


def touch_subjects(conn: Connection, subject_ids: Iterable[int], now: dt.datetime) -> None:
    params = [{"sid": sid, "now": now} for sid in set(subject_ids)]
    if params:
        executemany(conn, "subjects.touched", lambda: update(subjects).where(subjects.c.id == bindparam("sid"))
                    .values(changed_at=bindparam("now")), params)


def _dedupe(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    seen, out = set(), []
    get = itemgetter(*key)
    for row in rows:
        k = get(row)
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


def find_subject(conn: Connection, scheme: str, value: str) -> Any | None:
    """A subject by its key, or by an identifier it carries (org code, 注册号)."""
    if scheme in ("uscc", "key"):
        return conn.execute(select(subjects).where(subjects.c.key == value)).first()
    row = conn.execute(
        select(subjects)
        .join(subject_identifiers, subject_identifiers.c.subject_id == subjects.c.id)
        .where(subject_identifiers.c.scheme == scheme, subject_identifiers.c.value == value)
    ).first()
    if row is None and scheme in ("org_code", "reg_no"):
        prefix = "org:" if scheme == "org_code" else "reg:"
        row = conn.execute(select(subjects).where(subjects.c.key == prefix + value)).first()
    return row


# --- records -------------------------------------------------------------------------

def latest_versions(conn: Connection, agency_id: int, source_ids: Iterable[str]) -> dict[str, Any]:
    """The newest row (current or withdrawn) of each source record of one agency."""
    found: dict[str, Any] = {}
    columns = (records.c.id, records.c.uid, records.c.source_record_id, records.c.version, records.c.status,
               records.c.content_hash, records.c.subject_id, records.c.kind)
    wanted = records.c.agency_id == agency_id, records.c.status.in_(("current", "withdrawn"))
    if conn.dialect.name == "postgresql":
        # each id of one array looked up on its own in the (agency, source id, status)
        # index, whatever the statistics say: a LATERAL subquery the planner cannot pull up
        # (OFFSET 0). As an IN list, or the array joined to the table, a table not analysed
        # since a large import was scanned whole for the agency and filtered, and once
        # psycopg prepared the statement (its fifth run) the generic plan compared every
        # record with every id: 17 s for 5,000 ids and 40,000 records (docs/notes.md)
        for batch in chunks(sorted(set(source_ids)), 10_000):
            ids = func.unnest(bindparam("ids", batch, type_=ARRAY(String))).table_valued("sid").render_derived("wanted")
            one = (select(*columns).where(records.c.source_record_id == ids.c.sid, *wanted)
                   .offset(literal_column("0")).lateral("found"))
            for row in conn.execute(select(one).select_from(ids).join(one, true())):
                found[row.source_record_id] = row
        return found
    for listed in one_of(conn, records.c.source_record_id, source_ids):
        for row in conn.execute(select(*columns).where(listed, *wanted)):
            found[row.source_record_id] = row
    return found


def insert_records(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    insert_many(conn, records, rows)


def mark_superseded(conn: Connection, record_ids: Sequence[int]) -> None:
    if record_ids:
        conn.execute(
            update(records).where(records.c.id == bindparam("rid")).values(status="superseded"),
            [{"rid": rid} for rid in record_ids],
        )


def record_history(conn: Connection, uid: str) -> list[Any]:
    """All versions of the source record that `uid` belongs to, oldest first."""
    row = conn.execute(select(records.c.agency_id, records.c.source_record_id).where(records.c.uid == uid)).first()
    if row is None:
        return []
    q = (
        select(records, agencies.c.code.label("agency_code"), subjects.c.key.label("subject_key"))
        .join(agencies, agencies.c.id == records.c.agency_id)
        .join(subjects, subjects.c.id == records.c.subject_id)
        .where(and_(records.c.agency_id == row.agency_id, records.c.source_record_id == row.source_record_id))
        .order_by(records.c.version)
    )
    return list(conn.execute(q))


def subject_records(conn: Connection, subject_id: int, include_history: bool = True) -> list[Any]:
    q = (
        select(records, agencies.c.code.label("agency_code"))
        .join(agencies, agencies.c.id == records.c.agency_id)
        .where(records.c.subject_id == subject_id)
        .order_by(records.c.kind, records.c.event_date, records.c.source_record_id, records.c.version)
    )
    if not include_history:
        q = q.where(records.c.status == "current")
    return list(conn.execute(q))


def agency_record_uids(conn: Connection, subject_id: int, agency_code: str) -> set[str]:
    """Every record id (all versions) the agency provided about the subject (agency isolation)."""
    q = (select(records.c.uid).join(agencies, agencies.c.id == records.c.agency_id)
         .where(records.c.subject_id == subject_id, agencies.c.code == agency_code))
    return set(conn.execute(q).scalars())


def agency_owned_uids(conn: Connection, uids: Iterable[str], agency_code: str) -> set[str]:
    """Which of `uids` are records the agency provided (agency isolation)."""
    wanted, owned = sorted(set(uids)), set()
    for i in range(0, len(wanted), 500):
        q = (select(records.c.uid).join(agencies, agencies.c.id == records.c.agency_id)
             .where(records.c.uid.in_(wanted[i:i + 500]), agencies.c.code == agency_code))
        owned.update(conn.execute(q).scalars())
    return owned


def subject_aliases(conn: Connection, subject_id: int) -> tuple[list[Any], list[Any]]:
    ids = list(
        conn.execute(
            select(subject_identifiers.c.scheme, subject_identifiers.c.value, subject_identifiers.c.first_seen_at)
            .where(subject_identifiers.c.subject_id == subject_id)
            .order_by(subject_identifiers.c.scheme, subject_identifiers.c.value)
        )
    )
    names = list(
        conn.execute(
            select(subject_names.c.name, subject_names.c.first_seen_at)
            .where(subject_names.c.subject_id == subject_id)
            .order_by(subject_names.c.first_seen_at, subject_names.c.name)
        )
    )
    return ids, names


# --- idempotency ---------------------------------------------------------------------

def get_idempotent(conn: Connection, agency_id: int, key: str) -> Any | None:
    return conn.execute(
        select(idempotency_keys).where(idempotency_keys.c.agency_id == agency_id, idempotency_keys.c.key == key)
    ).first()


def save_idempotent(
    conn: Connection, agency_id: int, key: str, request_hash: str, status_code: int, response: dict, now: dt.datetime
) -> None:
    conn.execute(
        idempotency_keys.insert().values(
            agency_id=agency_id, key=key, request_hash=request_hash, status_code=status_code, response=response, created_at=now
        )
    )


def find_subjects_by_key(conn: Connection, keys: set[str], *, brief: bool = False) -> dict[str, Any]:
    """The subjects among `keys` (subject keys: USCC, reg:…, person:…), by key; `brief`: only
    their id, key and name."""
    found: dict[str, Any] = {}
    columns = (subjects.c.id, subjects.c.key, subjects.c.name) if brief else (subjects,)
    for batch in chunks(sorted(keys)):
        for row in conn.execute(select(*columns).where(subjects.c.key.in_(batch))):
            found[row.key] = row
    return found


def organisation_subject_ids(conn: Connection) -> list[int]:
    """Subjects that are organisations (they have a USCC), in id order."""
    return [r[0] for r in conn.execute(select(subjects.c.id).where(subjects.c.uscc.is_not(None)).order_by(subjects.c.id))]
