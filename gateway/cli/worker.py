"""`gateway worker`: run a delivery worker (any number of them, on PostgreSQL)."""

from __future__ import annotations

import argparse

from gateway.cli._common import add_config_option, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("worker", help="run a delivery worker: push the outbox to the destinations")
    parser.add_argument("--worker-id", help="name in leases and attempts (default host:pid:random)")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds between polls when idle")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds in-flight sends get at shutdown")
    add_config_option(parser)
    parser.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from gateway.delivery import install
    from gateway.delivery.worker import run_worker
    from gateway.logging_setup import configure_logging

    services = services_from(args)
    configure_logging(services.settings.log_level, services.settings.log_json)
    install(services)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worker = await run_worker(services, stop, worker_id=args.worker_id, poll_interval=args.poll_interval,
                                  grace_seconds=args.grace)
        print(f"worker {worker.worker_id} stopped: {worker.counters}", flush=True)

    try:
        asyncio.run(main())
    finally:
        services.close()
    return 0
