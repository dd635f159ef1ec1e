"""The change feed's SQL (`subject_changes`): every statement on the table is here.

    enqueue          an upsert per subject, in the caller's transaction (intake, transitions...)
    enqueue_all      every subject (a profile switch)
    enqueue_due      subjects whose stored standing changes by itself on or before a day (sweep)
    claim            one atomic UPDATE … RETURNING: rows due and not leased, oldest first
                     (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises)
    complete         delete the rows decided (a row whose seq moved on stays, released)
    fail             release with the error; quarantine after `max_attempts`
    retry            put quarantined subjects back (operator)

Fresh rows (no attempt yet) are claimed in batches; a row that already failed, or whose lease
expired because its consumer died, is claimed alone, so one poisoned subject cannot take the
others of its batch down with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.store.change_tables import subject_changes as sc
from gateway.store.policy_tables import standings
from gateway.store.sql import chunks, executemany
from gateway.store.tables import subjects

PENDING, QUARANTINED = "pending", "quarantined"


@dataclass(frozen=True)
class Claim:
    subject_id: int
    seq: int
    attempts: int  # including this one


def _insert(conn: Connection):  # noqa: ANN202
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(sc)


def _on_conflict(stmt):  # noqa: ANN001, ANN202
    """A change of a subject already in the feed: count it, and try again now (new data may
    be what it needed; a quarantined subject gets a fresh run of attempts)."""
    return stmt.on_conflict_do_update(
        index_elements=[sc.c.subject_id],
        set_={
            "seq": sc.c.seq + 1,
            "cause": stmt.excluded.cause,
            "attempts": case((sc.c.state == QUARANTINED, 0), else_=sc.c.attempts),
            "state": PENDING,
            "next_attempt_at": stmt.excluded.next_attempt_at,
        },
    )


def enqueue(conn: Connection, subject_ids: Iterable[int], now: dt.datetime, cause: str) -> int:
    """Record that these subjects changed (in the caller's transaction); returns how many."""
    ids = sorted(set(subject_ids))
    if ids:  # one executemany for all (the rows are parameter sets: no statement-size limit)
        executemany(conn, "feed.enqueue", lambda: _on_conflict(_insert(conn)), [
            {"subject_id": sid, "seq": 1, "cause": cause, "enqueued_at": now, "state": PENDING, "attempts": 0,
             "next_attempt_at": now} for sid in ids])
    return len(ids)


def _enqueue_select(conn: Connection, ids_query, now: dt.datetime, cause: str) -> int:  # noqa: ANN001
    chosen = ids_query.subquery()
    source = select(chosen.c.id, literal(1), literal(cause), literal(now, sc.c.enqueued_at.type), literal(PENDING),
                    literal(0), literal(now, sc.c.next_attempt_at.type)).where(true())  # WHERE: SQLite's upsert parse
    stmt = _insert(conn).from_select(
        ["subject_id", "seq", "cause", "enqueued_at", "state", "attempts", "next_attempt_at"], source)
    return len(conn.execute(_on_conflict(stmt).returning(sc.c.subject_id)).all())


def enqueue_all(conn: Connection, now: dt.datetime, cause: str) -> int:
    """Every subject (a profile switch: every standing is decided again)."""
    return _enqueue_select(conn, select(subjects.c.id.label("id")), now, cause)


def enqueue_due(conn: Connection, day: dt.date, now: dt.datetime, cause: str = "date") -> int:
    """Subjects whose stored standing may change by itself on or before `day` (indexed)."""
    q = select(standings.c.subject_id.label("id")).where(standings.c.next_change_on <= day)
    return _enqueue_select(conn, q, now, cause)


def claim(conn: Connection, *, worker: str, limit: int, now: dt.datetime, lease_seconds: float,
          suspects: bool = False) -> list[Claim]:
    """Lease up to `limit` due rows: fresh ones (no attempt yet), or with `suspects` ONE row
    that failed before or whose lease expired."""
    c = sc.c
    due = select(c.subject_id).where(
        c.state == PENDING, c.next_attempt_at <= now,
        or_(c.lease_expires_at.is_(None), c.lease_expires_at < now),
        c.attempts > 0 if suspects else c.attempts == 0,
    ).order_by(c.enqueued_at, c.subject_id).limit(1 if suspects else limit)
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(sc).where(c.subject_id.in_(due.scalar_subquery()))
        .values(lease_owner=worker, lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                claimed_seq=c.seq, attempts=c.attempts + 1)
        .returning(c.subject_id, c.seq, c.attempts)
    )
    return sorted((Claim(*row) for row in conn.execute(stmt)), key=lambda cl: cl.subject_id)


def quarantine_abandoned(conn: Connection, *, now: dt.datetime, max_attempts: int) -> list[int]:
    """Rows whose lease expired `max_attempts` times (a consumer died deciding them each time):
    quarantined with that reason rather than tried again."""
    c = sc.c
    rows = conn.execute(
        update(sc).where(c.state == PENDING, c.lease_expires_at < now, c.attempts >= max_attempts)
        .values(state=QUARANTINED, lease_owner=None, lease_expires_at=None, claimed_seq=None, failed_at=now,
                last_error=literal("its consumer stopped while deciding it, ") + cast(c.attempts, String)
                + literal(" time(s)"))
        .returning(c.subject_id)
    ).all()
    return [r[0] for r in rows]


def complete(conn: Connection, claims: Sequence[Claim], *, worker: str, claimed_at: dt.datetime,
             now: dt.datetime) -> list[int]:
    """The claimed subjects were decided in this transaction: delete their rows, or release
    those that changed again meanwhile (their seq moved on). Returns the subject ids whose
    lease this worker no longer holds (another took over: the caller must roll back)."""
    c = sc.c
    ids = [cl.subject_id for cl in claims]
    done: set[int] = set()
    for part in chunks(ids):
        done |= {r[0] for r in conn.execute(
            delete(sc).where(c.subject_id.in_(part), c.lease_owner == worker, c.seq == c.claimed_seq)
            .returning(c.subject_id))}
    rest = [i for i in ids if i not in done]
    for part in chunks(rest):
        done |= {r[0] for r in conn.execute(
            update(sc).where(c.subject_id.in_(part), c.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None, claimed_seq=None, attempts=0, last_error=None,
                    failed_at=None, enqueued_at=claimed_at, next_attempt_at=now)
            .returning(c.subject_id))}
    return [i for i in ids if i not in done]


def fail(conn: Connection, claim_: Claim, *, worker: str, now: dt.datetime, error: str, max_attempts: int,
         retry_in: float) -> str | None:
    """Release a subject that failed: due again in `retry_in` seconds, or quarantined when it
    has had `max_attempts`. Returns the new state (None when the lease was lost)."""
    c = sc.c
    state = QUARANTINED if claim_.attempts >= max_attempts else PENDING
    result = conn.execute(
        update(sc).where(c.subject_id == claim_.subject_id, c.lease_owner == worker)
        .values(lease_owner=None, lease_expires_at=None, claimed_seq=None, last_error=error[:4000], failed_at=now,
                state=state, next_attempt_at=now + dt.timedelta(seconds=retry_in))
    )
    return state if result.rowcount == 1 else None


def release(conn: Connection, claims: Sequence[Claim], *, worker: str, now: dt.datetime) -> int:
    """Give leases back without an attempt counted (shutdown, or a batch rolled back)."""
    c = sc.c
    count = 0
    for part in chunks([cl.subject_id for cl in claims]):
        count += conn.execute(
            update(sc).where(c.subject_id.in_(part), c.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None, claimed_seq=None, attempts=c.attempts - 1,
                    next_attempt_at=now)
        ).rowcount
    return count


def retry(conn: Connection, subject_ids: Sequence[int] | None, now: dt.datetime) -> int:
    """Operator: quarantined subjects (these, or all) are tried again now, attempts reset."""
    c = sc.c
    stmt = update(sc).where(c.state == QUARANTINED)
    if subject_ids is not None:
        stmt = stmt.where(c.subject_id.in_(list(subject_ids)))
    return conn.execute(stmt.values(state=PENDING, attempts=0, next_attempt_at=now, lease_owner=None,
                                    lease_expires_at=None, claimed_seq=None)).rowcount


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedStats:
    pending: int
    oldest_pending_at: dt.datetime | None
    quarantined: int
    leased: int

    def oldest_age(self, now: dt.datetime) -> float:
        return max(0.0, (now - self.oldest_pending_at).total_seconds()) if self.oldest_pending_at else 0.0


def stats(conn: Connection, now: dt.datetime) -> FeedStats:
    c = sc.c
    row = conn.execute(select(
        func.count().filter(c.state == PENDING),
        func.min(c.enqueued_at).filter(c.state == PENDING),
        func.count().filter(c.state == QUARANTINED),
        func.count().filter(and_(c.lease_owner.is_not(None), c.lease_expires_at >= now)),
    )).one()
    return FeedStats(int(row[0] or 0), row[1], int(row[2] or 0), int(row[3] or 0))


def pending_for(conn: Connection, subject_ids: Iterable[int]) -> set[int]:
    """Which of these subjects have a change not yet decided (pending or quarantined)."""
    found: set[int] = set()
    for part in chunks(sorted(set(subject_ids))):
        found |= {r[0] for r in conn.execute(select(sc.c.subject_id).where(sc.c.subject_id.in_(part)))}
    return found


def list_changes(conn: Connection, *, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    c = sc.c
    q = (select(sc, subjects.c.key.label("subject"), subjects.c.name.label("subject_name"))
         .join(subjects, subjects.c.id == c.subject_id).order_by(c.enqueued_at, c.subject_id).limit(limit))
    if state:
        q = q.where(c.state == state)
    return [dict(r._mapping) for r in conn.execute(q)]


def claim_subjects(conn: Connection, subject_ids: Sequence[int], *, worker: str, now: dt.datetime,
                   lease_seconds: float) -> list[Claim]:
    """Lease these subjects' pending rows now, whatever their backoff (an operator asked, or a
    use case needs them decided); rows another consumer holds are left to it."""
    c = sc.c
    out: list[Claim] = []
    for part in chunks(sorted(set(subject_ids))):
        stmt = (
            update(sc).where(c.subject_id.in_(part), c.state == PENDING,
                             or_(c.lease_expires_at.is_(None), c.lease_expires_at < now))
            .values(lease_owner=worker, lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                    claimed_seq=c.seq, attempts=c.attempts + 1)
            .returning(c.subject_id, c.seq, c.attempts)
        )
        out.extend(Claim(*row) for row in conn.execute(stmt))
    return sorted(out, key=lambda cl: cl.subject_id)


def rows_for(conn: Connection, subject_ids: Iterable[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for part in chunks(sorted(set(subject_ids))):
        for row in conn.execute(select(sc).where(sc.c.subject_id.in_(part))):
            found[row.subject_id] = row
    return found
