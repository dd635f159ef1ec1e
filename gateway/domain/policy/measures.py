"""Who acts on a subject's standing: joint measures by receiver sector (docs/policy.md §9).

The profile's `measures` table maps each list (joint_punishment, blacklist, incentive,
high_rating, key_monitoring) to receiver sectors (land, securities, finance, insurance,
approval, trading, electricity, safety_supervision, platform) and their measures, each with
its legal basis and source. A subject on a punishment list gets no incentive or high-rating
measures: a listed unit cannot be rewarded at the same time (`001` §三(四)2(3)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.domain.policy.output import Output

if TYPE_CHECKING:
    from gateway.domain.policy.profile import Profile

REWARDS = frozenset({"incentive", "high_rating"})


@dataclass(frozen=True, slots=True)
class MeasureDecision(Output):
    list_kind: str
    receiver: str
    text_zh: str
    text_en: str
    basis: str
    rules: str
    source: str
    entry: str  # profile key path


def measures_for(
    active: Iterable[str], profile: Profile, *, punished: bool = False
) -> tuple[MeasureDecision, ...]:
    """The measures receivers apply for the lists in `active`, in profile order."""
    wanted = set(active)
    if punished:
        wanted -= REWARDS
    if not wanted:
        return ()
    by_kind = profile.compiled().measures
    return tuple(m for kind in by_kind if kind in wanted for m in by_kind[kind])
