"""Partner receivers by sector (docs/policy.md §9): signed webhook push of the bulletin.

`adapter: adapters.bureaus:factory`; one destination per receiver (a land bureau, a bank,
an insurer, the securities regulator, the approval office, public resource trading, the
power company, the municipal sharing platform, 政务服务一体化平台). `adapter` is the client,
`webhook` the request signature (shared with the simulator), `guard` the sector check,
`simulator` a local stand-in (`gateway simulate bureau`).
"""

from adapters.bureaus.adapter import BureauDestination, factory

__all__ = ["BureauDestination", "factory"]
