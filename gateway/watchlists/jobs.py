"""The watchlist job the scheduler runs: the daily digest (07:00 China time) of `digest` lists.
Immediate notices need no schedule: the workers dispatch them every few seconds
(`WatchDispatcher.run_forever`, beside the change-feed consumer)."""

from __future__ import annotations

import datetime as dt

from gateway.scheduler import JobSpec
from gateway.watchlists.dispatch import WatchDispatcher


def jobs(dispatcher: WatchDispatcher) -> list[JobSpec]:
    def digest(slot: str, now: dt.datetime) -> str:
        sent = dispatcher.digest(now=now)
        return f"{len(sent.bulletins)} digest bulletin(s), {sent.changes} change(s)"

    return [JobSpec("watchlists:digest", "0 7 * * *", digest)]
