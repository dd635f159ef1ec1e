"""`gateway worker`: the change-feed consumer and a delivery worker (any number, on PostgreSQL)."""

from __future__ import annotations

import argparse

from gateway.cli._common import add_config_option, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("worker", help="decide changed subjects (the change feed) and push the outbox")
    parser.add_argument("--worker-id", help="name in leases and attempts (default host:pid:random)")
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds between polls when idle")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds in-flight sends get at shutdown")
    parser.add_argument("--no-consumer", action="store_true", help="push the outbox only")
    parser.add_argument("--no-delivery", action="store_true", help="decide the change feed only")
    add_config_option(parser)
    parser.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import threading

    from gateway.delivery.worker import run_worker
    from gateway.logging_setup import configure_logging
    from gateway.runtime import tune_collector

    services = services_from(args)
    configure_logging(services.settings.log_level, services.settings.log_json)
    if args.worker_id:
        services.consumer.worker_id = args.worker_id
    consumer_stop = threading.Event()
    consumer = None
    if not args.no_consumer:
        switched = services.policy.follow_profile()
        if switched:
            print(f"policy profile {services.profile.name} is new here: {switched} subject(s) to decide again",
                  flush=True)
        consumer = threading.Thread(target=services.consumer.run_forever, args=(consumer_stop,),
                                    name="change-consumer", daemon=True)
        consumer.start()
        print(f"change-feed consumer {services.consumer.worker_id} started", flush=True)
        watch, watch_stop = services.watch_dispatcher.start_thread(services.settings.watch_dispatch_interval_seconds)

    tune_collector()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if args.no_delivery:
            await stop.wait()
            return
        worker = await run_worker(services.db, services.clock, services.destinations, stop, worker_id=args.worker_id,
                                  poll_interval=args.poll_interval, grace_seconds=args.grace)
        print(f"worker {worker.worker_id} stopped: {worker.counters}", flush=True)

    try:
        asyncio.run(main())
    finally:
        consumer_stop.set()
        if consumer is not None:
            watch_stop.set()
            watch.join(15)
            consumer.join(15)
            print(f"change-feed consumer stopped: {services.consumer.counters}", flush=True)
        services.close()
    return 0
