"""Observability: what operators and their monitoring see of a running gateway.

- `summary`: the console's summary, assembled from each capability's queries;
- `metrics`: `/metrics` (Prometheus text), database gauges computed at scrape time and the
  per-process API latency histogram;
- `http`: the request id (`X-Request-Id`, bound to every log line) and API latency middleware;
- `leader`: the "scheduler leader known" readiness check;
- logging itself (structlog, redaction) is `gateway.logging_setup`.

`gateway.app` adds the middleware (`http`) and the endpoint (`metrics.MetricsEndpoint`).
"""

from __future__ import annotations
