"""The policy job the scheduler runs: the daily sweep (01:00 China time)."""

from __future__ import annotations

import datetime as dt

from gateway.clock import CHINA_TZ
from gateway.policy.service import PolicyService
from gateway.scheduler import JobSpec


def jobs(policy: PolicyService) -> list[JobSpec]:
    def policy_sweep(slot: str, now: dt.datetime) -> str:
        result = policy.sweep(now.astimezone(CHINA_TZ).date())
        return " ".join(f"{k}={v}" for k, v in result.counts().items())

    return [JobSpec("policy_sweep", "0 1 * * *", policy_sweep)]
