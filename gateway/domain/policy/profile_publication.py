"""The publication part of a profile: 双公示 deadlines, credit-repair bands and the
procedure's levels of approval (逐级审核) (`gateway.domain.policy.profile` holds the rest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.domain.policy.spans import _KEY, Cited, Key, Span, _Model


class Deadline(Cited):
    key: Key = Field(pattern=_KEY)
    kinds: tuple[Literal["licence", "penalty"], ...] = Field(min_length=1)
    sector: str | None = None  # None: every sector; a sector rule wins over a general one
    working_days: int = Field(ge=1, le=250)


class RepairBand(_Model):
    min: Span
    max: Span


class WorkSafetyMinimum(Cited):
    enabled: bool
    min: Span


class RepairPolicy(Cited):
    ordinary: RepairBand
    serious: RepairBand
    work_safety_minimum: WorkSafetyMinimum


class PublicationPolicy(_Model):
    deadlines: tuple[Deadline, ...] = Field(min_length=1)
    repair: RepairPolicy


# issue 12, rules 4-6: the procedure's levels (逐级审核)
class Approval(Cited):
    """The levels whose approval a step needs, lowest first; the last level's approval carries
    the step out and publishes it."""

    levels: tuple[str, ...] = Field(min_length=1)


class ProcedurePolicy(_Model):
    removal: Approval | None = None  # removing a joint punishment / blacklist listing
    incentive_review: Approval | None = None  # an incentive application, before publication
    incentive_removal: Approval | None = None  # taking a published incentive off

    def approval(self, key: str) -> Approval | None:
        return getattr(self, key)
