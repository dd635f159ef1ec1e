"""Per-partner rate limits: a token bucket per partner, in each API process (限流).

A partner's bucket holds `rate x burst_seconds` tokens and refills at `rate` per second; a
request takes one. The rate is the partner's own (`access_partners.rate_per_second`) or its
sector's (`GATEWAY_RATE_LIMITS`). An empty bucket answers 429 with `Retry-After`: the whole
seconds until one token is back. Buckets are per process: with N API processes behind a
balancer a partner gets up to N x rate, so configure rate / N.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, rates: dict[str, float], burst_seconds: float = 2.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rates = dict(rates)
        self.burst_seconds = burst_seconds
        self._now = now
        self._buckets: dict[object, _Bucket] = {}
        self._lock = threading.Lock()

    def rate_for(self, sector: str, own: float | None = None) -> float | None:
        return own if own else self.rates.get(sector)

    def take(self, who: object, rate: float | None) -> float:
        """0.0 when the request may go ahead, else the seconds until it could."""
        if not rate or rate <= 0:
            return 0.0
        capacity = max(1.0, rate * self.burst_seconds)
        now = self._now()
        with self._lock:
            bucket = self._buckets.get(who)
            if bucket is None:
                bucket = self._buckets[who] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
