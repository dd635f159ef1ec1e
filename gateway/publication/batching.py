"""Batching (成批): pending publication items into signed bulletins, per destination.

A destination's pending items are cut into bulletins by its `batch` settings: a bulletin
goes as soon as `max_items` are pending, or when the oldest pending item has waited
`max_age_seconds` (or when the caller forces it: the monthly report). Each bulletin is one
transaction that

    takes the oldest pending items (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serialises writers), builds header and items, signs them with the active key,
    hands the signed bytes to the outbox (`enqueue_bulletin`) and marks the items `batched`
    with the bulletin id,

so a crash anywhere before the commit leaves the items pending and no bulletin, and an item
is never in two bulletins (the mark only touches rows still `pending`; if another batcher got
there first the whole transaction is rolled back).

An item that cannot be published (a value XML cannot carry, a field the schema refuses) is
quarantined with its problems, found by building it alone; the bulletin goes without it and
the destination's other items are not held up.

Withdrawals, repairs and removals carry `ref_item_id`; the bulletin that holds the referenced
item is filled in here (`ref_bulletin_id`), from the database or, when both are in the same
bulletin, this one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gateway.delivery import outbox
from gateway.publication import repository as repo
from gateway.publication.bulletin import (
    BulletinHeader,
    BulletinInvalid,
    BulletinItem,
    item_problems,
    sign_bulletin,
)
from gateway.publication.content import BulletinKind, ItemKind
from gateway.signing.keys import SigningKey
from gateway.store.db import Database

log = logging.getLogger("gateway.batching")

_BULLETIN_KIND = {
    ItemKind.LICENCE_PUBLICATION: BulletinKind.PUBLICATION,
    ItemKind.PENALTY_PUBLICATION: BulletinKind.PUBLICATION,
    ItemKind.LICENCE_WITHDRAWAL: BulletinKind.WITHDRAWAL,
    ItemKind.PENALTY_WITHDRAWAL: BulletinKind.WITHDRAWAL,
    ItemKind.LIST_INCLUSION: BulletinKind.LIST,
    ItemKind.LIST_CHANGE: BulletinKind.LIST,
    ItemKind.LIST_REMOVAL: BulletinKind.LIST,
    ItemKind.RATING: BulletinKind.RATING,
    ItemKind.COMMITMENT: BulletinKind.COMMITMENT,
    ItemKind.REPAIR: BulletinKind.REPAIR,
}


@dataclass(frozen=True)
class BatchLimits:
    max_items: int = 500
    max_age_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: Any) -> BatchLimits:
        """From a `DestinationConfig` (its `batch`), or defaults."""
        batch = getattr(config, "batch", None)
        if batch is None:
            return cls()
        return cls(int(batch.max_items), float(batch.max_age_seconds))


@dataclass(frozen=True)
class BatchContext:
    """What every bulletin header needs besides its items."""

    issuer_uscc: str
    profile: str
    key: SigningKey


def is_due(count: int, oldest: dt.datetime | None, now: dt.datetime, limits: BatchLimits, *, force: bool = False) -> bool:
    """Whether `count` pending items, the oldest created at `oldest`, make a bulletin now."""
    if count == 0:
        return False
    if force or count >= limits.max_items:
        return True
    return oldest is not None and (now - oldest).total_seconds() >= limits.max_age_seconds


def bulletin_kind(kinds: Sequence[ItemKind | str]) -> BulletinKind:
    found = {_BULLETIN_KIND[ItemKind(k)] for k in kinds}
    return found.pop() if len(found) == 1 else BulletinKind.MIXED


def bulletin_id_for(destination: str, sequence: int) -> str:
    """`bl-<destination>-<sequence>`, within the outbox's 64 characters for any destination name."""
    name = destination if len(destination) <= 40 else destination[:31] + "." + hashlib.sha256(destination.encode()).hexdigest()[:8]
    return f"bl-{name}-{sequence:07d}"


def build_items(rows: Sequence[Any], bulletin_id: str, refs: dict[str, str | None]) -> list[BulletinItem]:
    """Bulletin items from stored rows, with references to earlier bulletins filled in."""
    here = {r.item_id for r in rows}
    items = []
    for r in rows:
        fields = dict(r.fields)
        if r.ref_item_id:
            fields["ref_item_id"] = r.ref_item_id
            ref_bulletin = bulletin_id if r.ref_item_id in here else refs.get(r.ref_item_id)
            if ref_bulletin:
                fields["ref_bulletin_id"] = ref_bulletin
        items.append(BulletinItem(r.item_id, ItemKind(r.kind), r.subject, fields, r.record_uid))
    return items


@dataclass
class Made:
    bulletin_id: str | None = None
    quarantined: int = 0


def make_bulletin(
    conn: Connection,
    destination: str,
    limits: BatchLimits,
    ctx: BatchContext | Callable[[], BatchContext],
    now: dt.datetime,
    *,
    force: bool = False,
    source_prefix: str | None = None,
) -> Made:
    """One bulletin from the oldest pending items of `destination`, if due; in `conn`'s
    transaction. `ctx` may be a callable, called only when a bulletin is due (no key is needed
    to find nothing to do). An item that cannot be published (it does not serialise or
    validate on its own) is quarantined with its problems and the bulletin goes without it."""
    rows = repo.take_pending(conn, destination, limits.max_items, source_prefix)
    oldest = min((r.created_at for r in rows), default=None)
    if not is_due(len(rows), oldest, now, limits, force=force):
        return Made()
    if callable(ctx):
        ctx = ctx()
    sequence = outbox.next_sequence(conn, destination)
    bulletin_id = bulletin_id_for(destination, sequence)
    items = build_items(rows, bulletin_id, repo.ref_bulletins(conn, rows))
    header = BulletinHeader(bulletin_id, sequence, ctx.issuer_uscc, now, ctx.profile, destination,
                            bulletin_kind([i.kind for i in items]))
    try:
        signed = sign_bulletin(header, items, ctx.key)
    except BulletinInvalid:
        bad = {row.id: "; ".join(problems) for row, item in zip(rows, items, strict=True)
               if (problems := item_problems(header, item))}
        if not bad:  # the bulletin as a whole is wrong, not one item: a gateway bug, never hidden
            raise
        repo.quarantine(conn, bad, now)
        log.error("%d item(s) for %s quarantined, they cannot be published: %s", len(bad), destination,
                  "; ".join(list(bad.values())[:3]))
        keep = [(r, i) for r, i in zip(rows, items, strict=True) if r.id not in bad]
        if not keep:
            return Made(quarantined=len(bad))
        rows, items = [r for r, _ in keep], [i for _, i in keep]
        header = BulletinHeader(bulletin_id, sequence, ctx.issuer_uscc, now, ctx.profile, destination,
                                bulletin_kind([i.kind for i in items]))
        signed = sign_bulletin(header, items, ctx.key)
        quarantined = len(bad)
    else:
        quarantined = 0
    outbox.enqueue_bulletin(
        conn,
        destination=destination,
        signed=signed,
        bulletin_id=bulletin_id,
        sequence=sequence,
        kind=header.kind.value,
        items=[outbox.ItemRef(i.item_id, i.record_id, i.subject, str(i.kind)) for i in items],
        now=now,
    )
    repo.mark_batched(conn, [r.id for r in rows], bulletin_id, now)
    return Made(bulletin_id, quarantined)


def batch_destination(
    db: Database,
    destination: str,
    limits: BatchLimits,
    ctx: BatchContext | Callable[[], BatchContext],
    now: dt.datetime,
    *,
    force: bool = False,
    source_prefix: str | None = None,
    max_bulletins: int = 1000,
) -> list[str]:
    """Make bulletins for `destination` while they are due, one transaction each."""
    made: list[str] = []
    for _ in range(max_bulletins * 2):
        if len(made) >= max_bulletins:
            break
        with db.write() as conn:
            result = make_bulletin(conn, destination, limits, ctx, now, force=force, source_prefix=source_prefix)
        if result.bulletin_id is not None:
            log.info("bulletin %s for %s", result.bulletin_id, destination)
            made.append(result.bulletin_id)
        elif not result.quarantined:
            break
    return made
