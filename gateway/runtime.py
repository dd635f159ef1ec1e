"""What runs beside the API in one process (`gateway run`), or without it (`gateway worker`):
the change-feed consumer, the delivery worker and the scheduler, each in a thread of its own,
started and stopped together.

    gateway run        API + consumer + delivery worker + scheduler (the embedded layout)
    gateway serve      API only
    gateway worker     consumer + delivery worker (any number on PostgreSQL)
    gateway scheduler  the scheduler (one leads, the others wait)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.bootstrap import Services
from gateway.delivery.worker import run_worker
from gateway.scheduler import Scheduler

log = logging.getLogger("gateway.runtime")


def tune_collector() -> None:
    """Once everything long-lived is built (`gateway run`, `serve`, `worker`): freeze it and
    collect young objects every 10,000 new ones instead of 700.

    The routed spec, the validators and the profile live as long as the process: frozen, a
    full collection no longer walks them (p99 99 -> 33 ms in bench/query.py). An upload's
    batch builds a few hundred thousand objects (rows, dicts, outcomes) and the default
    threshold collected ~35 times per 1,000 rows, 7 % of an upload; the delivery worker's
    results and receipts are the same kind of short-lived garbage (docs/notes.md)."""
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


# something more to run beside (the demo's feeder): given the services, returns how to stop it
Extra = Callable[[Services], Callable[[], None]]


@dataclass
class Background:
    services: Services
    consumer: bool = True
    delivery: bool = True
    scheduler: bool = True
    extras: list[Extra] = field(default_factory=list)
    announce: Callable[[str], None] | None = None
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def start(self) -> Background:
        warm_imports()
        if self.consumer:
            switched = self.services.policy.follow_profile()
            if switched:
                log.warning("policy profile %s is new here: %d subject(s) to decide again",
                            self.services.profile.name, switched)
            thread, stop = self.services.consumer.start_thread()
            self._stops.append(lambda: (stop.set(), thread.join(15)))
            watch, watch_stop = self.services.watch_dispatcher.start_thread(
                self.services.settings.watch_dispatch_interval_seconds)
            self._stops.append(lambda: (watch_stop.set(), watch.join(15)))
        if self.delivery:
            self._stops.append(start_delivery_thread(self.services))
        if self.scheduler:
            sched = Scheduler(self.services.db, self.services.clock, self.services.jobs(),
                              announce=self.announce).start()
            self._stops.append(sched.stop)
        for extra in self.extras:
            self._stops.append(extra(self.services))
        return self

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # noqa: BLE001 - stop what else runs
                log.exception("stopping a background task failed")


def warm_imports() -> None:
    """Import, in this thread and before any other starts, the modules the threads import lazily.
    openpyxl imports itself in a circle; two threads importing it at once (the demo's feeder
    importing a file while the API's first request did) ended in `_DeadlockError` from the
    import lock on the fresh-clone CI run (docs/notes.md)."""
    import gateway.intake.importing  # noqa: F401  (openpyxl, the readers and the reports)
    import gateway.intake.xlsxfile  # noqa: F401


def start_delivery_thread(services: Services, **kw: object) -> Callable[[], None]:
    """Run a delivery worker in a daemon thread with its own event loop; returns its stop."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_worker(services.db, services.clock, services.destinations, stop, **kw))
        except Exception:  # pragma: no cover - logged, the API keeps serving
            log.exception("the in-process delivery worker stopped")
        finally:
            loop.close()

    thread = threading.Thread(target=target, name="delivery-worker", daemon=True)
    thread.start()

    def stop_worker() -> None:
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=15)

    return stop_worker
