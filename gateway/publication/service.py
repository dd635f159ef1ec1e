"""Publication use cases (公示): the change-feed consumer's publication step, push cycles, the
monthly report.

- `PublicationStep`: after the policy step has stored a subject's standing, plan what every
  destination should have (`planning.plan_subject`, from the standing it just computed and
  the record versions) and queue what is new with insert-or-ignore, in the consumer's
  transaction: a change is planned once and never missed.
- `PublicationService.push_cycle(destination)`: the batcher for one destination (a
  scheduled job `push:<destination>`); an item that cannot be published is quarantined on
  its own (`batching`), the rest go.
- `PublicationService.monthly_report(month)`: docs/policy.md §6, "monthly report to the level above
  by the 2nd of each month": last month's list inclusions, as one signed `list` bulletin to
  the destination named `report_to`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy import decide
from gateway.domain.policy.profile import Profile
from gateway.domain.records import RecordKind
from gateway.policy.repository import subjects_with_entries_started
from gateway.publication import repository as repo
from gateway.publication.batching import BatchContext, BatchLimits, batch_destination
from gateway.publication.content import ItemKind
from gateway.publication.planning import (
    ExistingItem,
    PlannedItem,
    RecordVersion,
    SubjectView,
    plan_subject,
    report_entries,
)
from gateway.publication.views import Route, measures_for_route, view_fields
from gateway.store.db import Database
from gateway.store.sql import Deferred
from gateway.subjects import Snapshot, entry_facts, load_snapshots

log = logging.getLogger("gateway.publication")

# Record kinds whose event date can start a list entry (bad-credit record, lists, §3-§4).
LISTING_KINDS = (RecordKind.ACCIDENT.value, RecordKind.VIOLATION.value)


def publishable(key: str) -> bool:
    """Bulletin subjects are USCCs or reg:<注册号> (bulletin.xsd SubjectKey); persons are not."""
    return len(key) == 18 or key.startswith("reg:")


def versions_of(snap: Snapshot) -> list[RecordVersion]:
    return [RecordVersion(r.uid, r.kind, r.status, r.data or {}, r.supersedes_uid, r.region, r.reason, r.event_date)
            for r in snap.versions]


@dataclass
class PublicationStep:
    """The consumer's publication step (runs after the policy step, in the same savepoint)."""

    routes: Sequence[Route]
    profile: Profile
    name: str = "publication"

    def preload(self, conn: Connection, snapshots: dict[int, Snapshot]) -> dict[int, list[ExistingItem]]:
        return repo.existing_items(conn, snapshots) if self.routes else {}

    def apply(self, conn: Connection, snap: Snapshot, policy: Any, as_of: dt.date, now: dt.datetime,
              existing: dict[int, list[ExistingItem]], writes: Deferred | None = None) -> int:
        """Queue what the subject's standing and records call for; returns the items added."""
        if not self.routes or not publishable(snap.key):
            return 0
        sid = snap.subject_id
        have = existing.get(sid, [])
        ended = frozenset(p.record_id for p in policy.decisions.penalties if p.status == "withdrawn")
        planned = plan_subject(
            SubjectView(snap.key, snap.subject.name, snap.subject.region), versions_of(snap), policy.standing,
            [entry_facts(e) for e in policy.entries], self.profile.measures, self.routes, have, as_of,
            publication_ended=ended, repaired=getattr(policy, "repaired", frozenset()))
        return repo.store_items(conn, sid, planned, now, {(e.destination, e.source_key) for e in have}, writes)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (2026-11-01, 2026-11-30)."""
    first = dt.date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def previous_month(day: dt.date) -> str:
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


@dataclass
class PublicationService:
    db: Database
    clock: Any
    calendar: WorkingCalendar
    profile: Profile
    destinations: Any  # DestinationRegistry
    issuer_uscc: str
    signing_key: Callable[[], Any]  # the active signing key (loaded once, when first needed)
    report_to: str | None = None

    def routes(self) -> list[Route]:
        return [Route.from_config(self.destinations.get(name)) for name in self.destinations.names()]

    def batch_context(self) -> BatchContext:
        return BatchContext(self.issuer_uscc, self.profile.name, self.signing_key())

    def push_cycle(self, destination: str, *, now: dt.datetime | None = None, force: bool = False) -> list[str]:
        """Batch `destination`'s pending items into signed bulletins, as its limits allow."""
        config = self.destinations.get(destination)
        return batch_destination(self.db, destination, BatchLimits.from_config(config), self.batch_context,
                                 now or self.clock.now(), force=force)

    def push_all(self, *, force: bool = False) -> dict[str, list[str]]:
        return {name: self.push_cycle(name, force=force) for name in self.destinations.names()}

    def monthly_report(self, month: str, *, now: dt.datetime | None = None) -> list[str]:
        """Send `month`'s list inclusions to the level above (docs/policy.md §6); returns bulletin ids.

        An inclusion is an entry whose period starts in `month`: a bad-credit record (docs/policy.md
        §3, decided as of the month's last day) or a list entry published in it, whatever it is
        now. Items are keyed `report:<month>:…`, so a second run adds and sends nothing."""
        target = self.report_to
        if not target:
            raise LookupError("no report_to destination configured (top-level 'report_to:' in the destinations file)")
        now = now or self.clock.now()
        first, last = month_bounds(month)
        route = Route.from_config(self.destinations.get(target))
        route = Route(route.destination, route.sector)  # the report is every inclusion, unfiltered
        prefix = f"report:{month}:"
        with self.db.read() as conn:
            ids = repo.subjects_with_listing_records(conn, LISTING_KINDS, first, last)
            ids |= subjects_with_entries_started(conn, first, last)
        for part in _chunks(sorted(ids), 200):
            with self.db.write() as conn:
                for snap in load_snapshots(conn, part).values():
                    if publishable(snap.key):
                        repo.store_items(conn, snap.subject_id, self._inclusions(snap, route, prefix, first, last),
                                         now, set())
        limits = BatchLimits.from_config(self.destinations.get(target))
        return batch_destination(self.db, target, limits, self.batch_context, now, force=True, source_prefix=prefix)

    def _inclusions(self, snap: Snapshot, route: Route, prefix: str, first: dt.date, last: dt.date
                    ) -> list[PlannedItem]:
        bad = decide(snap.current_records, last, self.profile, self.calendar).bad_credit.records
        started = [e for e in (entry_facts(r) for r in snap.entries) if e.starts_on and first <= e.starts_on <= last]
        view = SubjectView(snap.key, snap.subject.name, snap.subject.region)
        out = []
        for e in report_entries(view, bad, started):
            start = e.fields.get("period_start")
            if start is None or not (first <= start <= last):
                continue
            chosen = measures_for_route(e.list_kind, self.profile.measures, route) or []
            fields = {**e.fields, **({"measures": chosen} if chosen else {})}
            out.append(PlannedItem(route.destination, prefix + e.source_key, ItemKind.LIST_INCLUSION, snap.key,
                                   view_fields(fields, route)))
        return out

    # --- quarantined items -------------------------------------------------------------------

    def quarantined(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return repo.quarantined(conn, limit)

    def release(self, item_ids: Sequence[str] | None) -> int:
        """Operator: quarantined items (these, or all) are tried again at the next push cycle."""
        with self.db.write() as conn:
            return repo.release_quarantined(conn, item_ids, self.clock.now())


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
