"""From planned changes to signed notices (贷后监控): number them, then send them.

`WatchDispatcher.dispatch()` (the scheduled job `watchlists:dispatch`, every few seconds):

1. numbers the change rows the consumer planned since the last run (`cursor`, in one
   transaction, after the highest given so far): a poller's `GET …/changes?since=` reads by
   cursor, and a row numbered later always gets a higher one, so it never skips a change that
   committed late;
2. for `webhook` lists, puts their numbered, unsent changes into signed `watch` bulletins
   (up to `max_items` each), one per list, for the list's destination: the bulletin and its
   delivery enter the outbox in the transaction that marks the changes sent, so a change is
   in exactly one bulletin whatever crashes.

`WatchDispatcher.digest()` (the daily job `watchlists:digest`) does step 2 for `digest`
lists: one bulletin a day with every change since the last. `poll` lists are only numbered.
The outbox then delivers them like any bulletin: retries, breaker, receipts, dead letters.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy.exc import IntegrityError

from gateway.delivery import outbox
from gateway.publication.batching import bulletin_id_for
from gateway.publication.bulletin import BulletinHeader, BulletinItem, sign_bulletin
from gateway.publication.content import BulletinKind, ItemKind
from gateway.store.db import Database
from gateway.watchlists import repository as repo
from gateway.watchlists.view import list_line, rating_line

log = logging.getLogger("gateway.watchlists")

WEBHOOK, DIGEST, POLL = "webhook", "digest", "poll"
MODES = (WEBHOOK, DIGEST, POLL)


def item_fields(row: Any) -> dict[str, Any]:
    """A change row as the fields of a `watch.change` item (bulletin.xsd WatchChangeType)."""
    body = row.body
    before, after = body.get("before"), body["after"]
    return {
        "watchlist": row.watchlist_id,
        "change_seq": row.cursor,
        "subject_name": body.get("subject_name"),
        "standing_version": row.standing_version,
        "before_standing": before["standing"] if before else "unknown",
        "after_standing": after["standing"],
        "before_lists": [list_line(x) for x in (before or {}).get("lists", ())],
        "after_lists": [list_line(x) for x in after["lists"]],
        "before_measures": [m["text_zh"] for m in (before or {}).get("measures", ())],
        "after_measures": [m["text_zh"] for m in after["measures"]],
        "before_rating": rating_line((before or {}).get("rating")),
        "after_rating": rating_line(after.get("rating")),
        "changes": list(body["changes"]),
        "reasons": [f"{r['list_kind']}: {r.get('text_zh') or r.get('case')}"
                    + (f" ({r['source']})" if r.get("source") else "") for r in body.get("reasons", ())],
        "changed_at": row.changed_at,
    }


class AlreadySent(Exception):
    """Another dispatcher put some of these changes into a bulletin first."""


@dataclass
class Sent:
    numbered: int = 0
    bulletins: list[str] = field(default_factory=list)
    changes: int = 0


@dataclass
class WatchDispatcher:
    db: Database
    clock: Any
    issuer_uscc: str
    profile: str
    signing_key: Callable[[], Any]
    max_items: int = 500
    number_batch: int = 5000

    def dispatch(self, *, now: dt.datetime | None = None) -> Sent:
        """Number what was planned, then send the `webhook` lists' changes."""
        now = now or self.clock.now()
        out = Sent(numbered=self.number(now))
        self._send((WEBHOOK,), now, out)
        return out

    def digest(self, *, now: dt.datetime | None = None) -> Sent:
        """Number what was planned, then send each `digest` list one bulletin of its changes."""
        now = now or self.clock.now()
        out = Sent(numbered=self.number(now))
        self._send((DIGEST,), now, out, digest=True)
        return out

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Dispatch every `interval` seconds until `stop` is set (a failed round is logged and
        tried again: nothing is marked unless its transaction commits)."""
        while not stop.is_set():
            try:
                self.dispatch()
            except Exception:  # noqa: BLE001 - a database outage or a signing failure: try again
                log.exception("watch dispatch failed; trying again")
            stop.wait(interval)

    def start_thread(self, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop, interval), name="watch-dispatcher", daemon=True)
        thread.start()
        return thread, stop

    def number(self, now: dt.datetime) -> int:
        done = 0
        with self.db.read() as conn:  # an idle round takes no write lock (the workers' claims need it)
            if not repo.any_undispatched(conn):
                return 0
        for _ in range(10_000):
            try:
                with self.db.write() as conn:
                    seqs = repo.undispatched(conn, self.number_batch)
                    repo.number(conn, seqs, now)
            except IntegrityError:  # another dispatcher numbered at the same time: number again after it
                log.info("watch changes numbered by another dispatcher; numbering again")
                continue
            done += len(seqs)
            if len(seqs) < self.number_batch:
                break
        return done

    def _send(self, modes: Sequence[str], now: dt.datetime, out: Sent, *, digest: bool = False) -> None:
        """One transaction per bulletin (its changes marked sent with it), so the first partner's
        notice is on its way while the others are still being signed."""
        while True:
            with self.db.read() as conn:
                rows = repo.unsent(conn, modes=modes, limit=self.max_items * 20)
            if not rows:
                return
            for watchlist_id, group in groupby(rows, key=lambda r: r.watchlist_id):
                chunk = list(group)[: self.max_items]
                try:
                    with self.db.write() as conn:
                        out.bulletins.append(self._enqueue(conn, chunk[0].destination, chunk, now))
                        if digest:
                            repo.digest_done(conn, watchlist_id, now)
                except AlreadySent:
                    log.info("watchlist %s: changes sent by another dispatcher meanwhile", watchlist_id)
                    continue
                out.changes += len(chunk)

    def _enqueue(self, conn: Any, destination: str, rows: Sequence[Any], now: dt.datetime) -> str:
        sequence = outbox.next_sequence(conn, destination)
        bulletin_id = bulletin_id_for(destination, sequence)
        items = [BulletinItem(f"wc-{row.cursor}", ItemKind.WATCH_CHANGE, row.subject_key, item_fields(row))
                 for row in rows]
        header = BulletinHeader(bulletin_id, sequence, self.issuer_uscc, now, self.profile, destination,
                                BulletinKind.WATCH)
        signed = sign_bulletin(header, items, self.signing_key())
        outbox.enqueue_bulletin(conn, destination=destination, signed=signed, bulletin_id=bulletin_id,
                                sequence=sequence, kind=BulletinKind.WATCH.value,
                                items=[outbox.ItemRef(i.item_id, None, i.subject, ItemKind.WATCH_CHANGE.value)
                                       for i in items], now=now)
        if repo.mark_sent(conn, [r.seq for r in rows], bulletin_id) != len(rows):
            raise AlreadySent(bulletin_id)  # the whole transaction, bulletin included, is rolled back
        return bulletin_id
