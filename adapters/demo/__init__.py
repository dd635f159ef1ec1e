"""The demonstration: the gateway with its destinations simulated on loopback and the records
in `examples/` (see `environment`).

- `gateway demo` (`run_demo`): everything in one process against a fresh database under
  `var/demo/`, then a summary; exit 0 when every delivery settled;
- `gateway run --demo` (`prepare_run`, entry point `gateway.demo`): the simulators and their
  destinations before the gateway starts, and a feeder that runs beside it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.demo.dates import offset_for
from adapters.demo.environment import (
    LAYOUT,
    DemoEnvironment,
    deliver_until_drained,
    delivery_counts,
    fetch_async_receipts,
    import_examples,
    operate_lists,
    pending_items,
    print_rejected,
    print_summary,
    register_agencies,
    start_environment,
    wait_for_feed,
)
from adapters.demo.first_steps import issue_keys, on_time_summary, what_now
from adapters.demo.watchlist import register_watchlist, watch_summary
from gateway.clock import china_today
from gateway.paths import ROOT

log = logging.getLogger("gateway.demo")
Out = Callable[[str], None]


def run_demo(*, var_dir: Path | None = None, keys_dir: Path | None = None, out: Out = print,
             timeout: float = 90.0) -> int:
    """`gateway demo`: everything in one process on a fresh database; 0 when every delivery settled."""
    from gateway.bootstrap import build
    from gateway.config import get_settings, load_settings
    from gateway.signing.keys import ensure_dev_keyring
    from gateway.store import migrate

    var_dir = var_dir or ROOT / "var" / "demo"
    keys_dir = keys_dir or get_settings().keys_dir
    db_file = var_dir / "gateway.db"
    for stale in (db_file, db_file.with_name("gateway.db-wal"), db_file.with_name("gateway.db-shm")):
        stale.unlink(missing_ok=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    keyring = ensure_dev_keyring(keys_dir)
    out(f"gateway demo — database {db_file}, signing key {keyring.active.key_id} ({keys_dir})")
    env = start_environment(var_dir, keys_dir)
    services = build(load_settings(database_url=f"sqlite:///{db_file}", keys_dir=keys_dir),
                     destinations=env.registry, keyring=keyring)
    migrate.upgrade(services.db)
    try:
        out("\nsimulators on loopback:")
        for name, (sim, server) in env.simulators.items():
            label = LAYOUT[name][2]["options"].get("receiver") or LAYOUT[name][2]["options"].get("platform")
            out(f"  {name:<21} {sim.kind:<21} {sim.endpoint(server.url)}  {label}")
        out(f"  destinations written to {env.destinations_file}")
        out("\nagencies: " + ", ".join(register_agencies(services)))
        out("\nimporting examples/:")
        totals = import_examples(services, out, shift_days=offset_for(china_today(services.clock)))
        out(f"  total: {totals['accepted']} accepted, {totals['duplicate']} duplicate, {totals['rejected']} rejected")
        decided = services.consumer.drain()
        out(f"  change feed: {decided.done} subject(s) decided")
        out("\nwatchlist (a bank's 贷后监控):")
        register_watchlist(services, out)
        out("\nlist procedure (operator):")
        operate_lists(services, out)
        services.consumer.drain()
        services.watch_dispatcher.dispatch()
        made = services.publication.push_all(force=True)
        out("\nsigned bulletins: " + ", ".join(f"{n} {len(ids)}" for n, ids in made.items()))
        out("delivering (worker running until the queue drains) ...")
        t0 = time.monotonic()
        counters = asyncio.run(deliver_until_drained(services, timeout=timeout, out=out))
        out(f"  done in {time.monotonic() - t0:.1f}s; worker: sent {counters['sent']}, retried {counters['retried']}, "
            f"settled {counters['settled']}, bad receipts {counters['bad_receipts']}, dead {counters['dead']}")
        out("\nsummary per destination:")
        rows = print_summary(services, out)
        out("\nitems rejected by destinations (first 8):")
        print_rejected(services, out)
        open_states = {"pending", "sending", "retry_wait", "awaiting_receipt"}
        unsettled = sum(n for r in rows for s, n in r["states"].items() if s in open_states)
        if env.exchange is not None:
            out(env.exchange.summary())
        out(watch_summary(services))
        out("\nsimulator stats: " + "; ".join(f"{n}: {s.receiver.stats['applied']} applied, "
                                            f"{s.receiver.stats['duplicates']} dup" for n, (s, _) in env.simulators.items()))
        return 0 if unsettled == 0 else 1
    finally:
        env.stop()
        services.close()


@dataclass
class DemoRun:
    """What `gateway run --demo` starts the gateway with."""

    env: DemoEnvironment
    keyring: Any
    out: Out = print
    log_file: Path | None = None
    database: str = ""
    _url: str | None = None
    _listening: threading.Event = field(default_factory=threading.Event)

    def listening(self, url: str) -> None:
        """The gateway's address, once its socket is bound (the "what now" block names it)."""
        if self._url is None:
            self._url = url
            self._listening.set()

    @property
    def registry(self) -> Any:
        return self.env.registry

    def stop(self) -> None:
        self.env.stop()

    def feeder(self, services: Any) -> Callable[[], None]:
        """Import the examples, let the consumer decide them, walk the list procedure, and
        fetch asynchronous receipts while the scheduler pushes; returns how to stop."""
        stop = threading.Event()
        out = self.out

        def run() -> None:
            try:
                for name, (sim, server) in self.env.simulators.items():
                    out(f"demo: {name} → {sim.endpoint(server.url)}")
                register_agencies(services)
                explained: list[str] = []
                import_examples(services, out, shift_days=offset_for(china_today(services.clock)), explained=explained)
                wait_for_feed(services)
                register_watchlist(services, out)
                operate_lists(services, out)
                wait_for_feed(services)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and not stop.is_set():
                    counts = delivery_counts(services)
                    if counts.get("awaiting_receipt"):
                        asyncio.run(fetch_async_receipts(services))
                    elif counts and not sum(counts.get(s, 0) for s in ("pending", "sending", "retry_wait")) \
                            and not pending_items(services):
                        break  # every bulletin went out and every receipt is in
                    stop.wait(1.0)
                out("demo: summary per destination")
                print_summary(services, out)
                if self.env.exchange is not None:
                    out("demo: " + self.env.exchange.summary())
                out("demo: " + watch_summary(services))
                demo_keys = issue_keys(services)
                if self._listening.wait(60) and not stop.is_set():
                    for line in what_now(self._url or "", demo_keys, database=self.database,
                                         log_file=str(self.log_file or "stderr"), explained=explained,
                                         on_time=on_time_summary(services)):
                        out(line)
            except Exception:  # noqa: BLE001 - the API keeps serving
                log.exception("the demo feeder failed")

        thread = threading.Thread(target=run, name="demo-feeder", daemon=True)
        thread.start()
        return lambda: (stop.set(), thread.join(5))


def prepare_run(settings: Any, *, var_dir: Path | None = None, out: Out = print) -> DemoRun:
    """For `gateway run --demo` (entry point `gateway.demo`): simulators and destinations now."""
    from gateway.signing.keys import ensure_dev_keyring

    keyring = ensure_dev_keyring(settings.keys_dir)
    url = settings.database_url
    if var_dir is None:  # beside an SQLite database file (var/ by default), else var/ of the checkout
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") and ":memory:" not in url else None
        var_dir = (Path(path).resolve().parent if path else ROOT / "var") / "demo-run"
    env = start_environment(var_dir, settings.keys_dir)
    return DemoRun(env, keyring, out, log_file=var_dir / "gateway.log",
                   database=url if url.startswith("sqlite") else url.split("@")[-1])
