"""Retry policy: when to try a failed delivery again, or that it is time to give up.

A small frozen dataclass with one pure function, after procrastinate's `RetryStrategy`:
`get_schedule_in(attempts=…, age=…, retry_after=…)` returns the seconds to wait before the
next attempt, or None when the delivery is dead.

- constant: wait `base` seconds every time;
- progressive: exponential with full jitter (AWS architecture blog, "Exponential Backoff And
  Jitter"): a uniform draw from [0, min(cap, base·2^(attempts−1))], so a crowd of deliveries
  failed by one outage does not come back in lock-step. `random` is injectable for tests.
- `Retry-After` (429/503) is honoured: the later of the policy's wait and Retry-After.
- give up when `attempts >= max_attempts`, or when the next attempt would fall after
  `max_age` seconds since the delivery was enqueued.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

MIN_WAIT = 0.05  # seconds: a jittered zero still yields the event loop and the database


@dataclass(frozen=True)
class RetryPolicy:
    strategy: Literal["constant", "progressive"] = "progressive"
    base: float = 5.0
    cap: float = 3600.0
    max_attempts: int = 20
    max_age: float = 7 * 86400.0
    random: Callable[[], float] = field(default=_random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.strategy not in ("constant", "progressive"):
            raise ValueError(f"unknown retry strategy {self.strategy!r}")
        if self.base <= 0 or self.cap <= 0 or self.max_attempts < 1 or self.max_age <= 0:
            raise ValueError("retry base, cap, max_age must be > 0 and max_attempts >= 1")

    @classmethod
    def from_config(cls, config, random: Callable[[], float] | None = None) -> RetryPolicy:  # noqa: ANN001
        kw = {"random": random} if random is not None else {}
        return cls(config.strategy, config.base, config.cap, config.max_attempts, config.max_age, **kw)

    def backoff(self, attempts: int) -> float:
        """The policy's own wait after `attempts` failed attempts (no Retry-After, no limits)."""
        if self.strategy == "constant":
            return min(self.base, self.cap)
        ceiling = min(self.cap, self.base * 2.0 ** max(0, attempts - 1))
        return max(MIN_WAIT, ceiling * self.random())

    def get_schedule_in(self, *, attempts: int, age: float = 0.0, retry_after: float | None = None) -> float | None:
        """Seconds until the next attempt after `attempts` failed ones, or None: give up (dead).

        `age` is the seconds since the delivery was enqueued; `retry_after` the destination's
        Retry-After in seconds, if it sent one.
        """
        if attempts >= self.max_attempts:
            return None
        wait = self.backoff(attempts)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        if age + wait > self.max_age:
            return None
        return wait

    def give_up_reason(self, *, attempts: int, age: float, retry_after: float | None = None) -> str:
        if attempts >= self.max_attempts:
            return f"gave up after {attempts} attempts (max_attempts={self.max_attempts})"
        return f"gave up: the next attempt would be after max_age={self.max_age:g}s (age {age:.0f}s)"
