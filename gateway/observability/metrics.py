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

from gateway.delivery.outbox import STATES
from gateway.observability import queries

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
            queue_rows = queries.queues(conn, now)
            oldest = queries.oldest_pending(conn, now)
            attempts = queries.attempts(conn)
            latency = queries.send_latency(conn)
            waits = queries.receipt_waits(conn, now)
            lags = queries.receipt_lags(conn, now)
            breakers = queries.breakers(conn)
            timeliness = queries.publication(conn, now)
            entries = queries.list_entry_counts(conn)
            rejected = queries.rejected_by_agency(conn)

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
            buckets = [(str(b), c) for b, c in zip(queries.SEND_BUCKETS, cumulative, strict=True)]
            hist.add_metric([destination], buckets + [("+Inf", count)], total)
        yield hist

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
                breaker.add_metric([b["destination"], state], 1.0 if b["state"] == state else 0.0)
            failures.add_metric([b["destination"]], b["consecutive_failures"])
        yield breaker
        yield failures

        pub = GaugeMetricFamily("gateway_publication_records",
                                f"双公示 records due in the last {queries.TIMELINESS_WINDOW_DAYS} days or later, by outcome",
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
        for cert in queries.certificates(svc, now):
            certs.add_metric([cert["kind"], cert["key_id"], str(cert["active"]).lower()], cert["days_left"])
        yield certs

        from gateway.observability.leader import scheduler_leader

        known, _detail = scheduler_leader(svc)
        leader = GaugeMetricFamily("gateway_scheduler_leader_known", "1 when a scheduler holds the leader lock")
        leader.add_metric([], 1.0 if known else 0.0)
        yield leader


def registry_for(services: Any) -> CollectorRegistry:
    found = services.extras.get("metrics_registry")
    if found is None:
        found = CollectorRegistry(auto_describe=False)
        found.register(DatabaseCollector(services))
        services.extras["metrics_registry"] = found
    return found


def exposition(services: Any) -> bytes:
    """The text exposition: the shared database metrics, then this process's own."""
    return generate_latest(registry_for(services)) + generate_latest(HTTP_REGISTRY)
