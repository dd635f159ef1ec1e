"""The audit log: append-only and hash-chained (审计日志).

Every partner request and every operator action is one entry: who (credential), which
organisation and sector, what (operation or command), for what purpose, about which
subject, the outcome, when, and the request id. Entries are numbered without gaps (`seq`);
each stores the previous entry's hash and its own:

    entry_hash = SHA-256( canonical JSON of {seq, at, actor, organisation, sector, action,
                          purpose, subject, outcome, status, request_id, detail, prev_hash} )

Canonical JSON: keys sorted, no whitespace, UTF-8, timestamps as ISO 8601 UTC with
microseconds. Editing an entry breaks its own hash; deleting or reordering entries breaks
the link to the previous hash or the numbering; `verify` names the first entry where that
happens (and every later one it can tell apart).

Appends are serialised by the chain-head row (`audit_chain`, id 1): on PostgreSQL a
`SELECT … FOR UPDATE` of that row inside the appending transaction, so two API processes
appending at once queue rather than fork the chain; on SQLite the writer's `BEGIN IMMEDIATE`
already serialises. Pruning (retention) deletes a prefix of the chain and leaves a
checkpoint, the hash of the last pruned entry, in the head row, from which `verify` starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.access import idmask
from gateway.store.access_tables import audit_chain, audit_log

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "actor", "organisation", "sector", "action", "purpose", "subject", "outcome",
                 "status", "request_id", "detail", "prev_hash")


@dataclass
class AuditEntry:
    """An entry before it is chained (seq, hashes and, unless given, time are set on append)."""

    actor: str
    action: str
    outcome: str
    organisation: str | None = None
    sector: str | None = None
    purpose: str | None = None
    subject: str | None = None
    status: int | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime | None = None


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(values: dict[str, Any]) -> bytes:
    doc = {k: (_iso(values[k]) if k == "at" else values.get(k)) for k in HASHED_FIELDS}
    if values.get("subject_hash"):  # chained when present (entries from before it existed hash as they did)
        doc["subject_hash"] = values["subject_hash"]
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def entry_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


# --- the chain head ------------------------------------------------------------------------


def _lock_head(conn: Connection) -> Any:
    """The chain-head row, locked for this transaction (created on first use)."""
    q = select(audit_chain).where(audit_chain.c.id == 1)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(audit_chain).values(
            id=1, head_seq=0, head_hash=GENESIS, pruned_through_seq=0, pruned_hash=GENESIS
        ).on_conflict_do_nothing(index_elements=["id"]))
        row = conn.execute(q).one()
    return row


def append(conn: Connection, entries: Sequence[AuditEntry], now: dt.datetime, ids: Any = None) -> list[tuple[int, str]]:
    """Chain and store `entries` in order inside the caller's (writing) transaction. ID numbers
    are masked and secrets redacted first (`ids`: the gateway's IdProtector, which also adds
    their keyed hashes; without it they are masked only)."""
    if not entries:
        return []
    ids = ids or idmask.MASK_ONLY
    head = _lock_head(conn)
    seq, prev = head.head_seq, head.head_hash
    rows, out = [], []
    for e in entries:
        seq += 1
        subject, subject_hash, detail = ids.protect(e.subject, e.detail or {})
        values = {
            "seq": seq, "at": e.at or now, "actor": e.actor, "organisation": e.organisation, "sector": e.sector,
            "action": e.action, "purpose": e.purpose, "subject": subject, "outcome": e.outcome,
            "status": e.status, "request_id": e.request_id, "detail": detail, "prev_hash": prev,
            "subject_hash": subject_hash,
        }
        values["entry_hash"] = prev = entry_hash(values)
        rows.append(values)
        out.append((seq, prev))
    conn.execute(audit_log.insert(), rows)
    conn.execute(update(audit_chain).where(audit_chain.c.id == 1).values(head_seq=seq, head_hash=prev))
    return out


def record(db: Any, entry: AuditEntry, now: dt.datetime, checkpoints: Any = None, ids: Any = None) -> int:
    """Append one entry in its own transaction (CLI and operator actions); a signed checkpoint
    follows when one is due."""
    with db.write() as conn:
        seq, head_hash = append(conn, [entry], now, ids)[0]
    if checkpoints is not None:
        checkpoints.after_append(seq, head_hash, now)
    return seq


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    seq: int
    kind: str  # edited | deleted | reordered | head; with checkpoints also truncated | rewritten | prefix-deleted | wiped | checkpoint-forged
    message: str


@dataclass
class Verification:
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    breaks: list[Break] = field(default_factory=list)
    checkpoints: int | None = None  # signed head checkpoints compared (None: not asked)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _row_values(row: Any) -> dict[str, Any]:
    return {k: getattr(row, k) for k in (*HASHED_FIELDS, "subject_hash", "entry_hash")}


def verify(conn: Connection, *, page: int = 5000, max_breaks: int = 100) -> Verification:
    """Walk the chain from the pruning checkpoint to the head; name each entry that breaks it."""
    head = conn.execute(select(audit_chain).where(audit_chain.c.id == 1)).first()
    start_seq, prev = (head.pruned_through_seq, head.pruned_hash) if head else (0, GENESIS)
    result = Verification()
    expected, last_seq, last_hash = start_seq + 1, start_seq, prev
    after = start_seq
    while True:
        rows = list(conn.execute(select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(page)))
        if not rows:
            break
        for row in rows:
            values = _row_values(row)
            own = entry_hash(values)
            result.checked += 1
            result.first_seq = result.first_seq or row.seq
            if row.seq != expected:
                result.breaks.append(Break(expected, "deleted",
                                           f"entries {expected}..{row.seq - 1} are missing (deleted)" if row.seq - 1 > expected
                                           else f"entry {expected} is missing (deleted)"))
            if own != row.entry_hash:
                result.breaks.append(Break(row.seq, "edited", f"entry {row.seq}: its content does not match its hash (edited or moved)"))
            elif row.prev_hash != last_hash and row.seq == expected:
                result.breaks.append(Break(row.seq, "reordered",
                                           f"entry {row.seq}: does not follow entry {row.seq - 1} (entries reordered or replaced)"))
            expected, last_seq, last_hash = row.seq + 1, row.seq, row.entry_hash
            if len(result.breaks) >= max_breaks:
                return result
        after = rows[-1].seq
    result.last_seq = last_seq if result.checked else None
    if head is not None and (head.head_seq != last_seq or head.head_hash != last_hash):
        if head.head_seq > last_seq:
            result.breaks.append(Break(last_seq + 1, "deleted",
                                       f"entries {last_seq + 1}..{head.head_seq} are missing (the chain head says {head.head_seq})"))
        else:
            result.breaks.append(Break(head.head_seq, "head", f"the chain head (entry {head.head_seq}) does not match the last entry {last_seq}"))
    return result


def head(conn: Connection) -> tuple[int, str]:
    """The committed chain head (seq, hash)."""
    row = conn.execute(select(audit_chain.c.head_seq, audit_chain.c.head_hash).where(audit_chain.c.id == 1)).first()
    return (row.head_seq, row.head_hash) if row else (0, GENESIS)


def chain_facts(conn: Connection) -> Any:
    """What the checkpoints are compared with (gateway.access.checkpoints.ChainFacts)."""
    from gateway.access.checkpoints import ChainFacts

    row = conn.execute(select(audit_chain).where(audit_chain.c.id == 1)).first()
    low = conn.execute(select(func.min(audit_log.c.seq))).scalar()
    high = conn.execute(select(func.max(audit_log.c.seq))).scalar()

    def hashes(seqs: list[int]) -> dict[int, str]:
        wanted, found = sorted(set(seqs)), {}
        for i in range(0, len(wanted), 500):
            q = select(audit_log.c.seq, audit_log.c.entry_hash).where(audit_log.c.seq.in_(wanted[i:i + 500]))
            found.update({r.seq: r.entry_hash for r in conn.execute(q)})
        return found

    return ChainFacts(row.pruned_through_seq if row else 0, row.pruned_hash if row else GENESIS, low, high, hashes)


def verify_with_checkpoints(conn: Connection, checkpoint_file: Any, certificates: dict[str, Any]) -> Verification:
    """The chain, and the database against the signed checkpoints outside it (checkpoints.py)."""
    from gateway.access import checkpoints

    result = verify(conn)
    lines, unreadable = checkpoints.read_lines(checkpoint_file)
    for f in checkpoints.verify(chain_facts(conn), lines, certificates, unreadable=unreadable):
        result.breaks.append(Break(f.seq, f.kind, f.message))
    result.checkpoints = sum(1 for ln in lines if ln.get("kind") == "head")
    return result


# --- retention -----------------------------------------------------------------------------


def prune(conn: Connection, before: dt.datetime, now: dt.datetime, checkpoints: Any = None) -> int:
    """Delete the oldest entries up to the last one before `before`; keep a checkpoint (and,
    with `checkpoints`, sign the mark in the file outside the database before it commits)."""
    head = _lock_head(conn)
    last = conn.execute(select(func.max(audit_log.c.seq)).where(audit_log.c.at < before)).scalar()
    if last is None or last <= head.pruned_through_seq:
        return 0
    last_hash = conn.execute(select(audit_log.c.entry_hash).where(audit_log.c.seq == last)).scalar_one()
    if checkpoints is not None:
        checkpoints.prune_intent(last, last_hash, now)
    removed = conn.execute(delete(audit_log).where(audit_log.c.seq <= last)).rowcount
    conn.execute(update(audit_chain).where(audit_chain.c.id == 1).values(
        pruned_through_seq=last, pruned_hash=last_hash, pruned_at=now))
    return removed


def prune_expired(db: Any, now: dt.datetime, retention_days: int, checkpoints: Any = None) -> int:
    """The retention job: prune entries older than `retention_days`."""
    with db.write() as conn:
        return prune(conn, now - dt.timedelta(days=retention_days), now, checkpoints)


# --- reading -------------------------------------------------------------------------------


def query(conn: Connection, *, actor: str | None = None, organisation: str | None = None,
          subject: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
          after: int | None = None, limit: int = 100, ids: Any = None) -> list[Any]:
    """Entries, oldest first, filtered; page with `after` (a seq). A full ID number as `subject`
    is matched by its keyed hash (`ids`: the gateway's IdProtector)."""
    q = select(audit_log).order_by(audit_log.c.seq).limit(limit)
    wanted_hash = ids.search_hash(subject) if ids is not None and subject else None
    if wanted_hash:
        q, subject = q.where(audit_log.c.subject_hash == wanted_hash), None
    for column, value in ((audit_log.c.actor, actor), (audit_log.c.organisation, organisation),
                          (audit_log.c.subject, subject)):
        if value:
            q = q.where(column == value)
    if since is not None:
        q = q.where(audit_log.c.at >= since)
    if until is not None:
        q = q.where(audit_log.c.at < until)
    if after is not None:
        q = q.where(audit_log.c.seq > after)
    return list(conn.execute(q))


def as_dict(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq, "at": _iso(row.at), "actor": row.actor, "organisation": row.organisation,
        "sector": row.sector, "action": row.action, "purpose": row.purpose, "subject": row.subject,
        "outcome": row.outcome, "status": row.status, "request_id": row.request_id, "detail": row.detail or {},
        "prev_hash": row.prev_hash, "entry_hash": row.entry_hash,
    }


def entries_for(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [as_dict(r) for r in rows]
