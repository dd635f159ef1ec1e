"""The SQL of watchlists, their subjects and their change feed (`gateway.store.watch_tables`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from gateway.store.sql import Deferred, chunks, insert_ignore, write_insert_ignore
from gateway.store.watch_tables import watch_changes, watchlist_subjects, watchlists


def create(conn: Connection, *, watchlist_id: str, partner_id: int, name: str, sector: str, mode: str,
           destination: str | None, created_by: str, now: dt.datetime) -> None:
    conn.execute(watchlists.insert().values(
        id=watchlist_id, partner_id=partner_id, name=name, sector=sector, mode=mode, destination=destination,
        subject_count=0, created_by=created_by, created_at=now, updated_at=now))


def get(conn: Connection, watchlist_id: str) -> Any | None:
    return conn.execute(select(watchlists).where(watchlists.c.id == watchlist_id)).first()


def of_partner(conn: Connection, partner_id: int | None) -> list[Any]:
    q = select(watchlists).order_by(watchlists.c.created_at, watchlists.c.id)
    if partner_id is not None:
        q = q.where(watchlists.c.partner_id == partner_id)
    return list(conn.execute(q))


def add_subjects(conn: Connection, watchlist_id: str, rows: Sequence[tuple[str, str | None]], now: dt.datetime) -> int:
    """Add (key, reference) pairs (a key already watched keeps its row); returns the count now."""
    insert_ignore(conn, watchlist_subjects,
                  [{"watchlist_id": watchlist_id, "subject_key": k, "reference": ref, "added_at": now} for k, ref in rows],
                  ("watchlist_id", "subject_key"))
    return _recount(conn, watchlist_id, now)


def remove_subjects(conn: Connection, watchlist_id: str, keys: Iterable[str], now: dt.datetime) -> int:
    for part in chunks(sorted(set(keys))):
        conn.execute(delete(watchlist_subjects).where(watchlist_subjects.c.watchlist_id == watchlist_id,
                                                      watchlist_subjects.c.subject_key.in_(part)))
    return _recount(conn, watchlist_id, now)


def count_subjects(conn: Connection, watchlist_id: str) -> int:
    return int(conn.execute(select(func.count()).select_from(watchlist_subjects)
                            .where(watchlist_subjects.c.watchlist_id == watchlist_id)).scalar() or 0)


def _recount(conn: Connection, watchlist_id: str, now: dt.datetime) -> int:
    n = count_subjects(conn, watchlist_id)
    conn.execute(update(watchlists).where(watchlists.c.id == watchlist_id).values(subject_count=n, updated_at=now))
    return n


def subjects(conn: Connection, watchlist_id: str, *, after: str | None, limit: int) -> list[Any]:
    q = (select(watchlist_subjects.c.subject_key, watchlist_subjects.c.reference, watchlist_subjects.c.added_at)
         .where(watchlist_subjects.c.watchlist_id == watchlist_id).order_by(watchlist_subjects.c.subject_key).limit(limit))
    if after:
        q = q.where(watchlist_subjects.c.subject_key > after)
    return list(conn.execute(q))


def delete_watchlist(conn: Connection, watchlist_id: str) -> None:
    conn.execute(delete(watch_changes).where(watch_changes.c.watchlist_id == watchlist_id))
    conn.execute(delete(watchlist_subjects).where(watchlist_subjects.c.watchlist_id == watchlist_id))
    conn.execute(delete(watchlists).where(watchlists.c.id == watchlist_id))


# --- the consumer's step -----------------------------------------------------------------

def watchers_of(conn: Connection, keys: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """subject key → [(watchlist id, sector)] for the keys watched by some list."""
    out: dict[str, list[tuple[str, str]]] = {}
    for part in chunks(sorted(set(keys))):
        q = (select(watchlist_subjects.c.subject_key, watchlists.c.id, watchlists.c.sector)
             .join(watchlists, watchlists.c.id == watchlist_subjects.c.watchlist_id)
             .where(watchlist_subjects.c.subject_key.in_(part)))
        for key, wid, sector in conn.execute(q):
            out.setdefault(key, []).append((wid, sector))
    return out


def plan_changes(conn: Connection, rows: Sequence[dict[str, Any]], writes: Deferred | None) -> None:
    """Insert-or-ignore change rows (one per watchlist, subject and standing version)."""
    write_insert_ignore(conn, writes, watch_changes, rows, ("watchlist_id", "subject_key", "standing_version"))


# --- dispatch -------------------------------------------------------------------------------

def undispatched(conn: Connection, limit: int) -> list[Any]:
    """Change rows not numbered yet, oldest first (locked on PostgreSQL: a second dispatcher waits)."""
    q = (select(watch_changes.c.seq).where(watch_changes.c.cursor.is_(None))
         .order_by(watch_changes.c.seq).limit(limit))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return [r.seq for r in conn.execute(q)]


def any_undispatched(conn: Connection) -> bool:
    return conn.execute(select(watch_changes.c.seq).where(watch_changes.c.cursor.is_(None)).limit(1)).first() is not None


def any_unsent(conn: Connection, modes: Sequence[str]) -> bool:
    q = (select(watch_changes.c.seq).join(watchlists, watchlists.c.id == watch_changes.c.watchlist_id)
         .where(watch_changes.c.cursor.is_not(None), watch_changes.c.bulletin_id.is_(None),
                watchlists.c.mode.in_(list(modes))).limit(1))
    return conn.execute(q).first() is not None


def number(conn: Connection, seqs: Sequence[int], now: dt.datetime) -> None:
    """Give the rows cursors after the highest one given so far, in seq order."""
    top = int(conn.execute(select(func.max(watch_changes.c.cursor))).scalar() or 0)
    for i, seq in enumerate(seqs, start=1):
        conn.execute(update(watch_changes).where(watch_changes.c.seq == seq, watch_changes.c.cursor.is_(None))
                     .values(cursor=top + i, dispatched_at=now))


def unsent(conn: Connection, *, modes: Sequence[str], limit: int, watchlist_id: str | None = None) -> list[Any]:
    """Numbered changes of lists in `modes` not in any bulletin yet, by list then cursor."""
    q = (select(watch_changes, watchlists.c.destination, watchlists.c.mode)
         .join(watchlists, watchlists.c.id == watch_changes.c.watchlist_id)
         .where(watch_changes.c.cursor.is_not(None), watch_changes.c.bulletin_id.is_(None),
                watchlists.c.mode.in_(list(modes)))
         .order_by(watch_changes.c.watchlist_id, watch_changes.c.cursor).limit(limit))
    if watchlist_id is not None:
        q = q.where(watch_changes.c.watchlist_id == watchlist_id)
    return list(conn.execute(q))


def mark_sent(conn: Connection, seqs: Sequence[int], bulletin_id: str) -> int:
    n = 0
    for part in chunks(list(seqs)):
        n += conn.execute(update(watch_changes).where(watch_changes.c.seq.in_(part), watch_changes.c.bulletin_id.is_(None))
                          .values(bulletin_id=bulletin_id)).rowcount
    return n


def digest_done(conn: Connection, watchlist_id: str, now: dt.datetime) -> None:
    conn.execute(update(watchlists).where(watchlists.c.id == watchlist_id).values(last_digest_at=now))


def changes_since(conn: Connection, watchlist_id: str, since: int, limit: int) -> list[Any]:
    return list(conn.execute(
        select(watch_changes).where(watch_changes.c.watchlist_id == watchlist_id, watch_changes.c.cursor > since)
        .order_by(watch_changes.c.cursor).limit(limit)))


def counts(conn: Connection) -> dict[str, int]:
    """For the operator summary: lists, watched subjects, changes planned, numbered, in bulletins."""
    return {
        "watchlists": int(conn.execute(select(func.count()).select_from(watchlists)).scalar() or 0),
        "watched": int(conn.execute(select(func.count()).select_from(watchlist_subjects)).scalar() or 0),
        "changes": int(conn.execute(select(func.count()).select_from(watch_changes)).scalar() or 0),
        "undispatched": int(conn.execute(select(func.count()).select_from(watch_changes)
                                         .where(watch_changes.c.cursor.is_(None))).scalar() or 0),
        "in_bulletins": int(conn.execute(select(func.count()).select_from(watch_changes)
                                         .where(watch_changes.c.bulletin_id.is_not(None))).scalar() or 0),
    }
