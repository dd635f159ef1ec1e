"""Prometheus metrics (text exposition at `/metrics`).

Two kinds:

- **shared state, computed at scrape time from the database** (`DatabaseCollector`): the
  outbox by destination and state, attempts and send latency (from the attempt log, so the
  counters are the same whichever process is scraped and survive restarts), receipt waits
  and lag, breakers, the backlog's age, 双公示 timeliness, list entries, certificate days left,
  the scheduler leader. Scrape ONE API process for these (they are identical everywhere);
  `gateway_up_info{process=...}` says which one answered;
- **per process** (`HTTP_REGISTRY`): API latency by route template (never the raw path, so
  identifiers do not explode the label space) and the process collectors. Scrape every API
  process for these.

`/metrics` is open (no API key), like `/healthz`: it carries counts, destination and agency
codes, never a subject or a record; keep it on the internal network (the reverse proxy
does not route it). A scrape costs a handful of grouped queries (figures in
docs/operator-guide.md).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from gateway.changes import feed
from gateway.delivery import breaker_store, refused_store, reports
from gateway.delivery.outbox import STATES
from gateway.observability.summary import certificates
from gateway.policy import repository as policy_repo
from gateway.publication import repository as publication_repo

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BREAKER_STATES = ("closed", "half_open", "open")

HTTP_REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=HTTP_REGISTRY)
API_LATENCY = Histogram(
    "gateway_http_request_duration_seconds",
    "API latency by route template (the OpenAPI path), method and status class; per process",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=HTTP_REGISTRY,
)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class DatabaseCollector(Collector):
    """Gauges and counters computed from the database when Prometheus scrapes."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def describe(self) -> Iterable[Metric]:
        return []  # computed at scrape time: nothing to describe up front

    def collect(self) -> Iterable[Metric]:
        started = time.perf_counter()
        svc = self.services
        now = svc.clock.now()
        ok = 1.0
        try:
            yield from self._collect(svc, now)
        except Exception:  # a failing query must not take the per-process metrics down with it
            log.exception("metrics: reading the database failed")
            ok = 0.0
        up = GaugeMetricFamily("gateway_metrics_database_up", "1 when the scrape read the database")
        up.add_metric([], ok)
        yield up
        took = GaugeMetricFamily("gateway_metrics_scrape_seconds", "time spent computing the database metrics")
        took.add_metric([], time.perf_counter() - started)
        yield took
        info = InfoMetricFamily("gateway_process", "the process that answered this scrape")
        info.add_metric([], {"host": socket.gethostname(), "pid": str(os.getpid())})
        yield info

    def _collect(self, svc: Any, now: Any) -> Iterable[Metric]:
        with svc.db.read() as conn:
            queue_rows = reports.queues(conn, now)
            oldest = reports.oldest_pending(conn, now)
            attempts = reports.attempts(conn)
            latency = reports.send_latency(conn)
            waits = reports.receipt_waits(conn, now)
            lags = reports.receipt_lags(conn, now)
            breakers = breaker_store.rows(conn)
            timeliness = publication_repo.timeliness(conn, now)
            entries = policy_repo.entry_counts(conn)
            rejected = reports.rejected_by_agency(conn)
            conflicts = reports.receipt_conflicts(conn)
            refused = refused_store.refused_counts(conn)
            changes = feed.stats(conn, now)
            items = publication_repo.item_counts(conn)
            standings, restricted = policy_repo.standing_counts(conn)

        yield from _feed_metrics(changes, now, items, standings, restricted, [r["destination"] for r in queue_rows]
                                 + list(svc.destinations.names()))

        by_state = GaugeMetricFamily("gateway_deliveries", "deliveries by destination and state",
                                     labels=["destination", "state"])
        seen: dict[str, set[str]] = {}
        for row in queue_rows:
            by_state.add_metric([row["destination"], row["state"]], row["count"])
            seen.setdefault(row["destination"], set()).add(row["state"])
        for destination, states in seen.items():  # absent states are 0, so alerts see a series
            for state in STATES:
                if state not in states:
                    by_state.add_metric([destination, state], 0)
        yield by_state

        backlog = GaugeMetricFamily("gateway_oldest_pending_age_seconds",
                                    "age of the oldest queued delivery (pending, retry_wait, sending)",
                                    labels=["destination"])
        for destination in sorted(set(seen) | set(oldest)):
            backlog.add_metric([destination], oldest.get(destination, 0.0))
        yield backlog

        counter = CounterMetricFamily("gateway_delivery_attempts", "delivery attempts by destination and outcome",
                                      labels=["destination", "outcome"])
        for destination, outcome, n in attempts:
            counter.add_metric([destination, outcome], n)
        yield counter

        hist = HistogramMetricFamily("gateway_delivery_send_seconds", "duration of delivery attempts",
                                     labels=["destination"])
        for destination, (cumulative, count, total) in latency.items():
            buckets = [(str(b), c) for b, c in zip(reports.SEND_BUCKETS, cumulative, strict=True)]
            hist.add_metric([destination], buckets + [("+Inf", count)], total)
        yield hist

        conflicted = GaugeMetricFamily("gateway_receipt_conflicts",
                                       "signed receipts that contradict the one that settled their delivery (kept, "
                                       "not applied)", labels=["destination"])
        for destination in sorted(set(seen) | set(conflicts)):
            conflicted.add_metric([destination], conflicts.get(destination, 0))
        yield conflicted

        refusals = CounterMetricFamily("gateway_receipts_refused",
                                       "receipts refused (not the destination's credential, unreadable, unknown "
                                       "delivery, not verified, mismatch); the deliveries were left unchanged",
                                       labels=["reason"])
        for reason in refused_store.REASONS:
            refusals.add_metric([reason], refused.get(reason, 0))
        yield refusals

        awaiting = GaugeMetricFamily("gateway_receipts_awaiting", "deliveries awaiting a receipt",
                                     labels=["destination"])
        oldest_wait = GaugeMetricFamily("gateway_receipt_oldest_wait_seconds",
                                        "how long the oldest delivery awaiting a receipt has waited",
                                        labels=["destination"])
        for destination, (n, waited) in waits.items():
            awaiting.add_metric([destination], n)
            oldest_wait.add_metric([destination], waited)
        yield awaiting
        yield oldest_wait

        lag = GaugeMetricFamily("gateway_receipt_lag_seconds",
                                "sending to receipt, deliveries settled in the last 24 h", labels=["destination", "quantile"])
        for destination, values in lags.items():
            for q in (0.5, 0.95, 1.0):
                lag.add_metric([destination, str(q)], _quantile(values, q))
        yield lag

        breaker = GaugeMetricFamily("gateway_breaker_state", "1 for the breaker's current state",
                                    labels=["destination", "state"])
        failures = GaugeMetricFamily("gateway_breaker_consecutive_failures",
                                     "consecutive transport failures", labels=["destination"])
        for b in breakers:
            for state in BREAKER_STATES:
                breaker.add_metric([b.destination, state], 1.0 if b.state == state else 0.0)
            failures.add_metric([b.destination], b.consecutive_failures)
        yield breaker
        yield failures

        pub = GaugeMetricFamily("gateway_publication_records",
                                f"双公示 records due in the last {publication_repo.TIMELINESS_WINDOW_DAYS} days or later, by outcome",
                                labels=["agency", "outcome"])
        rate = GaugeMetricFamily("gateway_publication_on_time_ratio",
                                 "share of settled 双公示 records published by publish_by (7 working days)",
                                 labels=["agency"])
        for agg in timeliness["agencies"]:
            for outcome in ("on_time", "late", "due", "overdue"):
                pub.add_metric([agg["agency"], outcome], agg[outcome])
            if agg["on_time_rate"] is not None:
                rate.add_metric([agg["agency"]], agg["on_time_rate"])
        yield pub
        yield rate

        rej = GaugeMetricFamily("gateway_rejected_items", "items destinations rejected, by source agency",
                                labels=["agency"])
        for row in rejected:
            rej.add_metric([row["agency"] or "unknown"], row["items"])
        yield rej

        le = GaugeMetricFamily("gateway_list_entries", "list entries by list and state", labels=["list", "state"])
        for list_kind, state, n in entries:
            le.add_metric([list_kind, state], n)
        yield le

        certs = GaugeMetricFamily("gateway_certificate_days_left", "days until a certificate expires",
                                  labels=["kind", "key_id", "active"])
        for cert in certificates(svc, now):
            certs.add_metric([cert["kind"], cert["key_id"], str(cert["active"]).lower()], cert["days_left"])
        yield certs

        from gateway.observability.leader import scheduler_leader

        known, _detail = scheduler_leader(svc)
        leader = GaugeMetricFamily("gateway_scheduler_leader_known", "1 when a scheduler holds the leader lock")
        leader.add_metric([], 1.0 if known else 0.0)
        yield leader


def _feed_metrics(changes: Any, now: Any, items: list[dict[str, Any]], standings: int, restricted: int,
                  destinations: list[str]) -> Iterable[Metric]:
    pending = GaugeMetricFamily("gateway_change_feed_pending", "subjects whose latest change is not decided yet")
    pending.add_metric([], changes.pending)
    yield pending
    oldest = GaugeMetricFamily("gateway_change_feed_oldest_age_seconds", "age of the oldest change not decided yet")
    oldest.add_metric([], changes.oldest_age(now))
    yield oldest
    quarantined = GaugeMetricFamily("gateway_change_feed_quarantined",
                                    "subjects set aside after repeated failures (gateway changes list)")
    quarantined.add_metric([], changes.quarantined)
    yield quarantined
    stored = GaugeMetricFamily("gateway_standings", "subjects with a stored standing, by standing",
                               labels=["standing"])
    stored.add_metric(["restricted"], restricted)
    stored.add_metric(["clear"], standings - restricted)
    yield stored
    by = {(r["destination"], r["state"]): r for r in items}
    names = sorted(set(destinations) | {r["destination"] for r in items})
    queued = GaugeMetricFamily("gateway_publication_items_pending", "publication items waiting for a bulletin",
                               labels=["destination"])
    age = GaugeMetricFamily("gateway_publication_oldest_pending_age_seconds",
                            "age of the oldest publication item waiting for a bulletin", labels=["destination"])
    held = GaugeMetricFamily("gateway_publication_items_quarantined",
                             "publication items that cannot be put in a bulletin (set aside with their error)",
                             labels=["destination"])
    for name in names:
        row = by.get((name, "pending"))
        queued.add_metric([name], row["count"] if row else 0)
        oldest_at = row["oldest"] if row else None
        if oldest_at is not None and oldest_at.tzinfo is None:
            oldest_at = oldest_at.replace(tzinfo=now.tzinfo)
        age.add_metric([name], max(0.0, (now - oldest_at).total_seconds()) if oldest_at else 0.0)
        row = by.get((name, "quarantined"))
        held.add_metric([name], row["count"] if row else 0)
    yield queued
    yield age
    yield held


def database_registry(services: Any) -> CollectorRegistry:
    """The registry of the database metrics for `services` (one per app)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(services))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text exposition: the shared database metrics, then this process's own."""
    return generate_latest(registry) + generate_latest(HTTP_REGISTRY)


METRICS_PATH = "/metrics"


class MetricsEndpoint:
    """Answers `GET /metrics`; everything else goes on."""

    def __init__(self, app: Any, services: Any) -> None:
        self.app = app
        self.registry = database_registry(services)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != METRICS_PATH:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            response = Response(status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            body = await run_in_threadpool(exposition, self.registry)  # database reads: off the event loop
            response = Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)
