"""Publication use cases (公示): queue items after intake and decisions, push cycles, the monthly report.

- `enqueue_for_subjects(services, subject_ids)`: recompute the subjects' decisions, route
  them (`routing.plan_subject`) and insert the items with insert-or-ignore, so calling it
  twice, or from two processes, queues nothing twice. Wire it as intake's `on_change`
  (`publication_on_change(services)`) and call it when decisions change.
- `publication_sweep(services)`: the same for every subject (daily): list entries expire,
  penalties reach their maximum publication period, and nothing missed by a crash between
  intake and enqueue stays missed.
- `push_cycle(services, destination)`: the batcher for one destination (a scheduled job).
- `monthly_report(services, month)`: RULES.md §6, "monthly report to the level above by
  the 2nd of each month": last month's list inclusions, as one signed `list` bulletin to the
  destination named `report_to`.

With the policy service installed (`services.extras["policy"]`), the joint punishment list,
blacklist and incentive list are published from its list entries in a public state
(`PUBLIC_STATES`: after notice, confirmation and publication, RULES.md §6), not from the
engine's candidacy.

Destinations come from `services.extras["destinations"]` (a `DestinationRegistry`), else
from `load_destinations()`; the signing key is `services.keyring.active`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

import yaml
from sqlalchemy import Connection, and_, select

from gateway.clock import CHINA_TZ
from gateway.delivery import routing
from gateway.delivery.batching import BatchContext, BatchLimits, batch_destination
from gateway.domain.policy import decide
from gateway.domain.policy.output import jsonable
from gateway.domain.records import Record, RecordKind
from gateway.policy_profiles import load_profile
from gateway.store.publication_tables import publication_items as pi
from gateway.store.sql import chunks, insert_ignore
from gateway.store.tables import agencies, records, subjects

log = logging.getLogger("gateway.publication")

# Record kinds whose event date can start a list entry (bad-credit record, lists, §3-§4).
_LISTING_KINDS = (RecordKind.ACCIDENT.value, RecordKind.VIOLATION.value)


# --- configuration ------------------------------------------------------------------------


def destinations(services: Any) -> Any:
    """The destination registry (cached in `services.extras["destinations"]`)."""
    reg = services.extras.get("destinations")
    if reg is None:
        from gateway.delivery.destinations import load_destinations

        reg = services.extras["destinations"] = load_destinations(keys_dir=services.settings.keys_dir)
    return reg


def routes(services: Any) -> list[routing.Route]:
    reg = destinations(services)
    return [routing.Route.from_config(reg.get(name)) for name in reg.names()]


def report_destination(services: Any) -> str | None:
    """Where the monthly report goes: `services.extras["report_to"]`, else the top-level
    `report_to:` of the destinations file."""
    if services.extras.get("report_to"):
        return services.extras["report_to"]
    from gateway.delivery.destinations import destinations_file

    path = destinations_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, yaml.YAMLError):
        return None
    return data.get("report_to") if isinstance(data, dict) else None


def profile(services: Any) -> Any:
    return load_profile(services.settings.policy_profile)


def batch_context(services: Any) -> BatchContext:
    return BatchContext(services.settings.issuer_uscc, profile(services).name, services.keyring.active)


# --- reading a subject --------------------------------------------------------------------


def _publishable(key: str) -> bool:
    """Bulletin subjects are USCCs or reg:<注册号> (bulletin.xsd SubjectKey); persons are not."""
    return len(key) == 18 or key.startswith("reg:")


def _load_subject(conn: Connection, subject_id: int) -> tuple[Any, list[Any]] | None:
    subject = conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()
    if subject is None:
        return None
    rows = list(
        conn.execute(
            select(records, agencies.c.code.label("agency_code"))
            .join(agencies, agencies.c.id == records.c.agency_id)
            .where(records.c.subject_id == subject_id)
            .order_by(records.c.id)
        )
    )
    return subject, rows


def _domain_records(subject_key: str, rows: Iterable[Any]) -> list[Record]:
    return [
        Record(r.uid, RecordKind(r.kind), subject_key, r.agency_code, r.event_date, r.data, r.version, r.status, r.received_at)
        for r in rows
        if r.status == "current" and r.event_date is not None
    ]


def _versions(rows: Iterable[Any]) -> list[routing.RecordVersion]:
    return [
        routing.RecordVersion(r.uid, r.kind, r.status, r.data or {}, r.supersedes_uid, r.region, r.reason, r.event_date)
        for r in rows
    ]


# Lifecycle states in which a managed list entry is in force publicly (gateway.domain.policy.lifecycle).
PUBLIC_STATES = ("published", "objection", "removal_requested")


def _managed(services: Any, conn: Connection, subject_id: int) -> list[routing.ManagedEntry] | None:
    """The subject's publicly listed entries when the policy service manages lists, else None."""
    if services.extras.get("policy") is None:
        return None
    from gateway.store.policy_tables import list_entries as le

    q = (
        select(le.c.uid, le.c.list_kind, le.c.cases, le.c.starts_on, le.c.expires_on)
        .where(le.c.subject_id == subject_id, le.c.state.in_(PUBLIC_STATES))
        .order_by(le.c.id)
    )
    return [routing.ManagedEntry(uid, kind, tuple(cases or ()), start, end) for uid, kind, cases, start, end in conn.execute(q)]


def _managed_in(services: Any, conn: Connection, subject_id: int, first: dt.date, last: dt.date) -> list[routing.ManagedEntry] | None:
    """Entries that started in [first, last] and were published (whatever they are now)."""
    if services.extras.get("policy") is None:
        return None
    from gateway.store.policy_tables import list_entries as le

    q = (
        select(le.c.uid, le.c.list_kind, le.c.cases, le.c.starts_on, le.c.expires_on)
        .where(le.c.subject_id == subject_id, le.c.starts_on >= first, le.c.starts_on <= last)
        .order_by(le.c.id)
    )
    return [routing.ManagedEntry(uid, kind, tuple(cases or ()), start, end) for uid, kind, cases, start, end in conn.execute(q)]


def _existing(conn: Connection, subject_id: int) -> list[routing.ExistingItem]:
    q = select(pi.c.destination, pi.c.source_key, pi.c.item_id, pi.c.kind, pi.c.fields).where(pi.c.subject_id == subject_id)
    return [routing.ExistingItem(*row) for row in conn.execute(q)]


def _store(conn: Connection, subject_id: int, planned: Iterable[routing.PlannedItem], now: dt.datetime, known: set[tuple[str, str]]) -> int:
    rows = [
        {
            "item_id": p.item_id,
            "destination": p.destination,
            "source_key": p.source_key,
            "kind": p.kind.value,
            "subject": p.subject,
            "subject_id": subject_id,
            "record_uid": p.record_uid,
            "ref_item_id": p.ref_item_id,
            "fields": jsonable(p.fields),
            "state": "pending",
            "created_at": now,
        }
        for p in planned
        if (p.destination, p.source_key) not in known
    ]
    rows = list({(r["destination"], r["source_key"]): r for r in rows}.values())
    for part in chunks(rows, 300):
        insert_ignore(conn, pi, part, ("destination", "source_key"))
    return len(rows)


# --- use cases ----------------------------------------------------------------------------


def enqueue_for_subjects(services: Any, subject_ids: Iterable[int], *, now: dt.datetime | None = None) -> int:
    """Queue what the subjects' records and decisions call for now; returns the items added."""
    now = now or services.clock.now()
    as_of = now.astimezone(CHINA_TZ).date()
    prof = profile(services)
    rts = routes(services)
    if not rts:
        return 0
    added = 0
    for sid in sorted(set(subject_ids)):
        with services.db.write() as conn:
            loaded = _load_subject(conn, sid)
            if loaded is None or not _publishable(loaded[0].key):
                continue
            subject, rows = loaded
            view = routing.SubjectView(subject.key, subject.name, subject.region)
            decisions = decide(_domain_records(subject.key, rows), as_of, prof, services.calendar)
            existing = _existing(conn, sid)
            managed = _managed(services, conn, sid)
            planned = routing.plan_subject(view, _versions(rows), decisions, prof.measures, rts, existing, as_of, managed)
            added += _store(conn, sid, planned, now, {(e.destination, e.source_key) for e in existing})
    return added


def publication_on_change(services: Any) -> Callable[[set[int]], None]:
    """The callback for `IntakeService.on_change`: queue items for the changed subjects.

    A failure is logged, never raised: the records are already stored, and the daily
    publication sweep queues whatever was missed."""

    def on_change(subject_ids: set[int]) -> None:
        try:
            enqueue_for_subjects(services, subject_ids)
        except Exception:  # noqa: BLE001 - intake has committed; the sweep catches up
            log.exception("queueing publication items for %d subjects failed; the daily sweep will retry", len(subject_ids))

    return on_change


def publication_sweep(services: Any, *, now: dt.datetime | None = None, chunk: int = 500) -> int:
    """Re-plan every subject (daily): expiries, maximum publication periods, missed changes."""
    with services.db.read() as conn:
        ids = [r[0] for r in conn.execute(select(subjects.c.id).order_by(subjects.c.id))]
    return sum(enqueue_for_subjects(services, part, now=now) for part in chunks(ids, chunk))


def push_cycle(services: Any, destination: str, *, now: dt.datetime | None = None, force: bool = False) -> list[str]:
    """Batch `destination`'s pending items into signed bulletins, as its limits allow."""
    config = destinations(services).get(destination)
    now = now or services.clock.now()
    limits = BatchLimits.from_config(config)
    return batch_destination(services.db, destination, limits, lambda: batch_context(services), now, force=force)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (2026-11-01, 2026-11-30)."""
    first = dt.date.fromisoformat(month + "-01")
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def previous_month(day: dt.date) -> str:
    return (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def monthly_report(services: Any, month: str, *, now: dt.datetime | None = None) -> list[str]:
    """Send last month's list inclusions to the level above (RULES.md §6); returns bulletin ids.

    An inclusion is an entry whose period starts in `month` (the bad-credit record, the
    lists, RULES.md §3-§4), decided as of the month's last day. Items are keyed
    `report:<month>:…`, so a second run of the same month adds and sends nothing."""
    target = report_destination(services)
    if not target:
        raise LookupError("no report_to destination configured (top-level 'report_to:' in the destinations file)")
    now = now or services.clock.now()
    first, last = month_bounds(month)
    prof = profile(services)
    route = routing.Route.from_config(destinations(services).get(target))
    route = routing.Route(route.destination, route.sector)  # the report is every inclusion, unfiltered
    prefix = f"report:{month}:"
    with services.db.read() as conn:
        ids = {
            r[0]
            for r in conn.execute(
                select(records.c.subject_id)
                .where(and_(records.c.status == "current", records.c.kind.in_(_LISTING_KINDS),
                            records.c.event_date >= first, records.c.event_date <= last))
                .distinct()
            )
        }
        if services.extras.get("policy") is not None:
            from gateway.store.policy_tables import list_entries as le

            ids |= {r[0] for r in conn.execute(select(le.c.subject_id).where(le.c.starts_on >= first, le.c.starts_on <= last))}
    for sid in sorted(ids):
        with services.db.write() as conn:
            loaded = _load_subject(conn, sid)
            if loaded is None or not _publishable(loaded[0].key):
                continue
            subject, rows = loaded
            view = routing.SubjectView(subject.key, subject.name, subject.region)
            decisions = decide(_domain_records(subject.key, rows), last, prof, services.calendar)
            planned = []
            for e in routing.list_entries(view, decisions, {}, _managed_in(services, conn, sid, first, last)):
                start = e.fields.get("period_start")
                if start is None or not (first <= start <= last):
                    continue
                chosen = routing.measures_for_route(e.list_kind, prof.measures, route) or []
                fields = {**e.fields, **({"measures": chosen} if chosen else {})}
                planned.append(
                    routing.PlannedItem(target, prefix + e.source_key, routing.ItemKind.LIST_INCLUSION, subject.key,
                                        routing.view_fields(fields, route))
                )
            _store(conn, sid, planned, now, set())
    limits = BatchLimits.from_config(destinations(services).get(target))
    return batch_destination(services.db, target, limits, lambda: batch_context(services), now, force=True, source_prefix=prefix)


# --- wiring -------------------------------------------------------------------------------


def install(services: Any, *, scheduler_in_process: bool = True) -> None:
    """Wire publication into a `Services` (call after `policy_service.install`; idempotent):
    chain `enqueue_for_subjects` after intake's existing `on_change` (policy recomputes
    first), and add the in-process scheduler to `gateway run`'s run hooks."""
    if services.extras.get("publication_installed"):
        return
    services.extras["publication_installed"] = True
    queue_items = publication_on_change(services)
    services.intake.subscribe(queue_items)
    policy = services.extras.get("policy")
    if policy is not None:  # a published, removed or expired entry changes what receivers get
        policy.transition_listeners.append(queue_items)
    if scheduler_in_process:
        from gateway.scheduler import run_hook

        hooks = services.extras.setdefault("run_hooks", [])
        if run_hook not in hooks:
            hooks.append(run_hook)
