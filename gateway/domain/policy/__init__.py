"""The policy engine (政策引擎): every rule of docs/policy.md as a pure function of records and a profile.

Pure: no I/O, no database; it imports nothing from `gateway` outside `gateway.domain`.
Profiles are data (`policies/*.yaml`, read by `gateway.policy.profiles`); the modules each
answer one question:

- `profile`: what a profile states, validated (`Profile.from_mapping`, `ProfileError`),
  with `spans` (periods and windows), `profile_checks` (cross-section checks) and
  `compiled` (lookups precomputed once per profile);
- `facts`: a subject's records read once into plain facts;
- `levels`: bad-credit records, level and cascade (§3);
- `lists`: joint punishment list and blacklist candidacy (§4, §10);
- `periods`: list entry periods, removal and reapplication windows (§4, §5, §10);
- `incentive`: the six incentive conditions with evidence (§5);
- `ratings`: 诚信等级, stars, star-less years, supervision tier (§7);
- `repair`: publication deadlines and credit repair of penalties (§8);
- `measures`: receivers' measures for each list (§9);
- `lifecycle`: state machines of list and incentive entries (§5, §6);
- `decide`: all of the above for one subject; `reasons`: why; `output`: `to_dict()`.
"""

from gateway.domain.policy.decide import SubjectDecisions, decide
from gateway.domain.policy.lifecycle import (
    Action,
    EntryState,
    IllegalTransition,
    IncentiveState,
    Transition,
    allowed_actions,
    parse_state,
    transition,
)
from gateway.domain.policy.periods import EntryPeriod, entry_period
from gateway.domain.policy.profile import Profile, ProfileError
from gateway.domain.policy.reasons import Reason
from gateway.domain.policy.repair import PublicationDeadline, publish_by

__all__ = [
    "Action",
    "EntryPeriod",
    "EntryState",
    "IllegalTransition",
    "IncentiveState",
    "Profile",
    "ProfileError",
    "PublicationDeadline",
    "Reason",
    "SubjectDecisions",
    "Transition",
    "allowed_actions",
    "decide",
    "entry_period",
    "parse_state",
    "publish_by",
    "transition",
]
