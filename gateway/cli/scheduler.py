"""`gateway scheduler`: run the scheduler (one leads, the others wait), or inspect and rerun runs.

    gateway scheduler                      run until interrupted (leader or follower)
    gateway scheduler --once               enqueue every job's due slot, run what is pending, exit
    gateway scheduler --list               the jobs, their next fire time and the latest runs
    gateway scheduler --rerun JOB SLOT     run (JOB, SLOT) again (e.g. monthly_report 2026-11)

On PostgreSQL start as many as you like (leader by advisory lock); on SQLite run one.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from gateway.cli import EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, services_from


def register(subparsers) -> None:  # noqa: ANN001
    parser = subparsers.add_parser("scheduler", help="run the scheduler: push cycles, monthly report, sweeps, retention")
    add_config_option(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="enqueue the due slot of every job, run pending runs, exit")
    mode.add_argument("--list", action="store_true", help="list the jobs and the latest runs")
    mode.add_argument("--rerun", nargs=2, metavar=("JOB", "SLOT"), help="run (JOB, SLOT) again")
    parser.add_argument("--retry-seconds", type=float, default=5.0, help="how often a follower tries to lead (default 5)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from gateway import scheduler as sched
    from gateway.logging_setup import configure_logging
    from gateway.scheduler import runs

    services = services_from(args)
    configure_logging(services.settings.log_level, services.settings.log_json)
    try:
        if args.rerun:
            job, slot = args.rerun
            runs.rerun(services.db, job, slot, services.clock.now())
            print(f"{job} {slot}: will run at the leader's next runner pass")
            return EXIT_OK
        jobs = services.jobs()
        if args.list:
            return _list(services, jobs)
        if args.once:
            for job, slot, outcome in sched.run_once(services.db, services.clock, jobs):
                print(f"{job} {slot}: {outcome}")
            return EXIT_OK
        if args.retry_seconds <= 0:
            print("gateway scheduler: --retry-seconds must be positive", file=sys.stderr)
            return EXIT_USAGE
        return _forever(services, jobs, args.retry_seconds)
    finally:
        services.close()


def _forever(services, jobs, retry_seconds: float) -> int:  # noqa: ANN001
    from gateway import scheduler as sched

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    scheduler = sched.Scheduler(services.db, services.clock, jobs, retry_seconds=retry_seconds,
                                announce=lambda m: print(m, flush=True))
    scheduler.start()
    done.wait()
    scheduler.stop()
    print(f"scheduler {scheduler.runner}: stopped", flush=True)
    return EXIT_OK


def _list(services, jobs) -> int:  # noqa: ANN001
    from gateway import scheduler as sched
    from gateway.scheduler import runs

    now = services.clock.now()
    for job in jobs:
        nxt = job.trigger.get_next_fire_time(None, now.astimezone(sched.CHINA))
        print(f"{job.name:32} next {nxt.isoformat() if nxt else '-':28} slot now {job.slot_for(now) or '-'}")
    for r in runs.latest(services.db, 20):
        print(f"  {r.job:30} {r.slot:20} {r.outcome or ('running' if r.started_at else 'enqueued'):9} {r.detail or ''}")
    return EXIT_OK
