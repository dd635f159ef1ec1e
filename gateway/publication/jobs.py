"""The publication jobs the scheduler runs: a push cycle per destination with a schedule, and
the monthly report to the level above on the 1st and 2nd (docs/policy.md §6: by the 2nd)."""

from __future__ import annotations

import datetime as dt
import logging

from gateway.publication.service import PublicationService
from gateway.scheduler import JobSpec

log = logging.getLogger("gateway.publication")


def jobs(publication: PublicationService) -> list[JobSpec]:
    out = []
    registry = publication.destinations
    for name in registry.names():
        schedule = registry.get(name).schedule
        if schedule:
            def push(slot: str, now: dt.datetime, destination: str = name) -> str:
                return f"{len(publication.push_cycle(destination, now=now))} bulletin(s)"

            out.append(JobSpec(f"push:{name}", schedule, push))
    if publication.report_to:
        def monthly_report(slot: str, now: dt.datetime) -> str:
            made = publication.monthly_report(slot, now=now)
            return f"{len(made)} bulletin(s)" if made else "no inclusions to report"

        out.append(JobSpec("monthly_report", "0 1 1,2 * *", monthly_report, slots="previous_month"))
    else:
        log.info("no report_to destination: the monthly report (docs/policy.md §6) is not scheduled")
    return out
