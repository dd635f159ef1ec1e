"""Delivery: the durable outbox, its worker, receipts and the destination port.

`install(services)` wires the capability into a `Services` (the one wiring place calls it):

- `services.extras["destinations"]`: the `DestinationRegistry` from the destinations file;
- `services.extras["run_hooks"]`: starts a delivery worker beside the API in `gateway run`
  (a thread with its own event loop, stopped at exit).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading

log = logging.getLogger(__name__)


def install(services, *, registry=None) -> None:  # noqa: ANN001
    from gateway.delivery.destinations import load_destinations

    if registry is not None:  # an explicit registry (tests, tools) replaces the configured one
        services.extras["destinations"] = registry
    elif "destinations" not in services.extras:
        services.extras["destinations"] = load_destinations(keys_dir=services.settings.keys_dir)
    hooks = services.extras.setdefault("run_hooks", [])
    if start_worker_thread not in hooks:
        hooks.append(start_worker_thread)


def start_worker_thread(services) -> threading.Thread:  # noqa: ANN001
    """Run a delivery worker in a daemon thread (the in-process layout of `gateway run`)."""
    from gateway.delivery.worker import run_worker

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(run_worker(services, stop))
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

    atexit.register(stop_worker)
    services.extras["worker_stop"] = stop_worker
    return thread
