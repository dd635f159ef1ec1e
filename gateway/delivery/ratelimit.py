"""Rate limit per destination: a token bucket, per worker process.

`per_second` tokens are added continuously up to `burst`; a send takes one. The bucket is
kept in the worker process, not in the database: N worker processes on one destination may
together send N × per_second (configure per_second / N when scaling out; docs/notes.md).
The default burst is a tenth of a second's worth, so a backlog released by a recovered
destination leaves at the configured rate rather than in one burst.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, per_second: float, burst: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be > 0")
        self.rate = float(per_second)
        self.burst = float(burst if burst is not None else max(1, math.ceil(per_second / 10)))
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    @classmethod
    def from_config(cls, config, clock: Callable[[], float] = time.monotonic) -> TokenBucket:  # noqa: ANN001
        return cls(config.per_second, config.burst, clock)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    @property
    def available(self) -> int:
        """Whole tokens available now (what may be claimed without waiting)."""
        self._refill()
        return int(self._tokens)

    def try_take(self, n: int = 1) -> bool:
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    def wait_time(self, n: int = 1) -> float:
        """Seconds until `n` tokens are available."""
        self._refill()
        return max(0.0, (n - self._tokens) / self.rate)

    async def acquire(self) -> None:
        while not self.try_take():
            await asyncio.sleep(self.wait_time())
