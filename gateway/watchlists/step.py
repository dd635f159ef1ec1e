"""The change-feed consumer's watch step (贷后监控): after the policy step has stored a subject's
standing, plan a notice for every watchlist whose sector view of it changed.

It runs in the consumer's transaction, inside the subject's savepoint when the batch is
decided carefully, and writes with insert-or-ignore keyed by (watchlist, subject, standing
version): the change is planned in the same commit that stores the standing, so a crash
before that commit loses nothing (the feed row is claimed again) and a replay after it adds
nothing. The dispatcher (`gateway.watchlists.dispatch`) sends what was planned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gateway.store.sql import Deferred
from gateway.subjects import Snapshot
from gateway.watchlists import repository as repo
from gateway.watchlists.view import changes, reasons_for, sector_view


@dataclass
class WatchStep:
    name: str = "watch"

    def preload(self, conn: Connection, snapshots: dict[int, Snapshot]) -> dict[str, list[tuple[str, str]]]:
        return repo.watchers_of(conn, (s.key for s in snapshots.values()))

    def apply(self, conn: Connection, snap: Snapshot, previous: Any | None, body: dict[str, Any], restricted: bool,
              version: int, now: dt.datetime, watchers: dict[str, list[tuple[str, str]]],
              writes: Deferred | None = None) -> int:
        """Plan the notices of one subject's new standing; returns how many were planned."""
        lists = watchers.get(snap.key)
        if not lists or (previous is not None and previous.version == version):
            return 0
        old_body = previous.body if previous is not None else None
        old_restricted = previous.restricted if previous is not None else None
        rows = []
        views: dict[str, tuple[Any, Any, list[str]]] = {}
        for watchlist_id, sector in lists:
            if sector not in views:
                before = sector_view(old_body, old_restricted, sector)
                after = sector_view(body, restricted, sector)
                views[sector] = (before, after, changes(before, after))
            before, after, what = views[sector]
            if not what:
                continue
            rows.append({
                "watchlist_id": watchlist_id, "subject_key": snap.key, "standing_version": version, "changed_at": now,
                "body": {"subject_name": snap.subject.name, "before": before, "after": after, "changes": what,
                         "reasons": reasons_for(before, after)},
            })
        repo.plan_changes(conn, rows, writes)
        return len(rows)
