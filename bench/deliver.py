"""Durable delivery throughput against the raw link, on SQLite and PostgreSQL.

    .venv/bin/python bench/deliver.py [--count 3000] [--concurrency 64] [--repeat 3] [--pg URL]
        [--databases sqlite,postgresql] [--modes receipt,ack] [--transport aiohttp-native|aiohttp|httpx]
        [--transports] [--profile]

One run starts the recording loopback destination (a real HTTP server in its own process,
`adapters.local.recorder`), signs `count` one-item bulletins (not timed: signing
belongs to batching) and measures, against that same destination:

  raw     a plain client loop POSTing the same signed payloads with the same concurrency and
          transport (distinct delivery ids, so the destination does the same work: parse,
          record, sign a receipt). This is the link limit.
  outbox  the delivery worker draining the outbox: atomic claims with leases, push, verify
          each synchronous signed receipt against the pinned trust, record attempts,
          receipts, per-item outcomes and states, durably.

Two destination modes: `receipt` (a signed receipt in every response, verified by the
worker: the full path) and `ack` (202 and the receipt later: the outbox + transport cost).
It prints deliveries/s, items/s and outbox/raw per database and mode, each pair measured
back to back in one run (`--repeat` pairs, then the median ratio and its range: the machine
is shared, compare within a run), and the CPU each side spent per request: the bench process
(raw client, or the whole worker: event loop + its two database threads) and the destination
process (read from /proc). Targets: ratio >= 0.8 and >= 1,000 deliveries/s with one-item
bulletins. Both sides run with the collector tuned as `gateway worker` tunes it
(`BENCH_DEFAULT_GC=1`: the interpreter's default). `--transports` first compares httpx's own
pool with the aiohttp transports; `--profile` runs the worker under cProfile (event loop and
database threads) and prints the share of its time each stage took (verify receipt, HTTP
push, record results, claim…); cProfile inflates small calls, `py-spy record --format raw`
on the bench samples without that bias (docs/notes.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "delivery"))

from sqlalchemy import create_engine, text  # noqa: E402

from adapters.local.recorder import make_http_client  # noqa: E402
from gateway.bootstrap import build  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.delivery import outbox  # noqa: E402
from gateway.delivery.destinations import DestinationConfig, DestinationRegistry  # noqa: E402
from gateway.delivery.port import OutgoingDelivery  # noqa: E402
from gateway.delivery.worker import Worker  # noqa: E402
from gateway.store import migrate  # noqa: E402
from gateway.store.db import Database  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sign_all(keys_dir: Path, count: int, prefix: str) -> list[tuple[str, bytes, list[str]]]:
    from delivery_helpers import sign

    now = dt.datetime.now(dt.UTC)
    return [(f"{prefix}-{k:06d}", *sign(keys_dir, f"{prefix}-{k:06d}", k + 1, "local", 1, now)) for k in range(count)]


def enqueue(db: Database, signed) -> None:  # noqa: ANN001
    now = dt.datetime.now(dt.UTC)
    with db.write() as conn:
        base = outbox.next_sequence(conn, "local")
        for k, (bid, data, items) in enumerate(signed):
            outbox.enqueue_bulletin(conn, destination="local", signed=data, bulletin_id=bid, sequence=base + k,
                                    kind="rating", items=[(i, None, "S", "rating") for i in items], now=now)


async def raw_loop(url: str, payloads: list[bytes], concurrency: int, transport: str) -> float:
    """POST every payload with `concurrency` requests in flight; returns requests/s."""
    if transport == "aiohttp-native":
        return await raw_loop_native(url, payloads, concurrency)
    client = make_http_client(transport, max_connections=concurrency)
    queue = list(enumerate(payloads))
    errors = 0

    async def one_lane() -> None:
        nonlocal errors
        while queue:
            k, body = queue.pop()
            d = OutgoingDelivery(str(uuid.uuid4()), f"raw-{k}", "local", body, 1)
            r = await client.post(url + "/deliveries", content=body, headers=d.headers())
            errors += r.status_code >= 300

    t0 = time.perf_counter()
    await asyncio.gather(*(one_lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await client.aclose()
    if errors:
        print(f"  (raw loop: {errors} non-2xx answers)")
    return len(payloads) / elapsed


async def raw_loop_native(url: str, payloads: list[bytes], concurrency: int) -> float:
    import aiohttp

    queue = list(enumerate(payloads))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one_lane() -> None:
            while queue:
                k, body = queue.pop()
                d = OutgoingDelivery(str(uuid.uuid4()), f"raw-{k}", "local", body, 1)
                async with session.post(url + "/deliveries", data=body, headers=d.headers()) as r:
                    await r.read()

        t0 = time.perf_counter()
        await asyncio.gather(*(one_lane() for _ in range(concurrency)))
        return len(payloads) / (time.perf_counter() - t0)


STAGES = {  # (file, function) whose cumulative time is one stage of a delivery in the worker
    "verify receipt": ("delivery/receipts.py", "verify_for_delivery"),
    "HTTP push": ("local/recorder.py", "_push_native"),
    "record results (db thread)": ("delivery/results.py", "apply_results"),
    "claim (db thread)": ("delivery/worker.py", "_claim"),
    "reap (db thread)": ("delivery/outbox.py", "reap_expired_leases"),
    "breaker read (db thread)": ("delivery/breaker_store.py", "load_all"),
}


def print_profile(profiles: list, count: int) -> None:
    """Where the worker's time went: cProfile of the event loop and of the database thread."""
    import pstats

    stats = pstats.Stats(profiles[0])
    for extra in profiles[1:]:
        stats.add(extra)
    idle = ("<method 'poll' of 'select.epoll' objects>", "<method 'acquire' of '_thread.lock' objects>")
    total = sum(v[2] for (_, _, func), v in stats.stats.items() if func not in idle)  # busy time, not waits
    print(f"  profile of the worker (cProfile: its overhead inflates every figure, compare shares): "
          f"{total / count * 1000:.2f} ms/delivery busy")
    for stage, (suffix, name) in STAGES.items():
        ct = sum(v[3] for (file, _, func), v in stats.stats.items() if func == name and file.endswith(suffix))
        print(f"    {stage:28s} {ct / total:6.1%}")


async def drain(services, registry: DestinationRegistry, count: int, profile: bool = False) -> float:  # noqa: ANN001
    import cProfile

    stop = asyncio.Event()
    worker = Worker(services.db, services.clock, registry, poll_interval=0.01, flush_max=1000)
    loop = asyncio.get_running_loop()
    profiles = [cProfile.Profile(), cProfile.Profile(), cProfile.Profile()] if profile else []
    threads = (worker._executor, worker._flush_executor)
    if profile:  # one profiler per thread: the event loop's and the worker's two database threads
        for executor, prof in zip(threads, profiles[1:], strict=True):
            await loop.run_in_executor(executor, prof.enable)
        profiles[0].enable()
    t0 = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    while True:
        await asyncio.sleep(0.005)
        c = worker.counters  # cheap to watch; the database confirms (a count per poll would cost the worker CPU)
        if c["sent"] + c["rejected"] + c["dead"] < count:
            if task.done():
                task.result()
            continue
        with services.db.read() as conn:
            counts = outbox.count_by_state(conn)
        done = sum(counts.get(s, 0) for s in (*outbox.FINAL_STATES, "awaiting_receipt"))
        if done >= count:
            break
    elapsed = time.perf_counter() - t0
    if profile:
        profiles[0].disable()
        for executor, prof in zip(threads, profiles[1:], strict=True):
            await loop.run_in_executor(executor, prof.disable)
        print_profile(profiles, count)
    stop.set()
    await task
    bad = {k: v for k, v in counts.items() if k not in ("acknowledged", "awaiting_receipt")}
    if bad:
        print(f"  (outbox ended with {bad})")
    return count / elapsed


def cpu_seconds(pid: int | None = None) -> float:
    """CPU (user + system) used so far by this process, or by process `pid` (from /proc)."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU per request of this process and of the destination's, over one timed phase."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> CpuMeter:
        self.mine, self.theirs = cpu_seconds(), cpu_seconds(self.server_pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self.mine, self.theirs = cpu_seconds() - self.mine, cpu_seconds(self.server_pid) - self.theirs

    def per_request_ms(self, count: int) -> tuple[float, float]:
        return self.mine / count * 1000, self.theirs / count * 1000


def fresh_pg(url: str) -> tuple[str, callable]:
    schema = f"gw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def run_one(args, server, keys_dir: Path, db_name: str, mode: str, url: str) -> float:  # noqa: ANN001
    """One raw-loop / outbox pair on a fresh database; prints it and returns the ratio."""
    server.set_mode(sync_receipts=mode == "receipt")
    db = Database(url)
    migrate.upgrade(db)
    settings = load_settings(database_url=url, keys_dir=keys_dir)
    services = build(settings, db=db, clock=SystemClock())
    cfg = DestinationConfig(
        name="local", adapter="adapters.local:factory", trust="dev",
        options={"url": server.url, "transport": args.transport, "max_connections": args.concurrency},
        concurrency=args.concurrency, rate_limit={"per_second": 1_000_000}, lease_seconds=60)
    registry = DestinationRegistry({"local": cfg}, keys_dir=keys_dir)
    signed = sign_all(keys_dir, args.count, f"{db_name}-{mode}-{uuid.uuid4().hex[:6]}")
    enqueue(db, signed)
    with CpuMeter(server.proc.pid) as raw_cpu:
        raw = asyncio.run(raw_loop(server.url, [d for _, d, _ in signed], args.concurrency, args.transport))
    with CpuMeter(server.proc.pid) as outbox_cpu:
        durable = asyncio.run(drain(services, registry, args.count, args.profile))
    client_ms, dest_raw_ms = raw_cpu.per_request_ms(args.count)
    worker_ms, dest_ms = outbox_cpu.per_request_ms(args.count)
    print(f"{db_name:10s} {mode:7s} raw {raw:7.0f}/s   outbox {durable:7.0f} deliveries/s "
          f"({durable:7.0f} items/s)   ratio {durable / raw:4.2f}   CPU ms/request: raw client {client_ms:4.2f} "
          f"dest {dest_raw_ms:4.2f} | worker {worker_ms:4.2f} dest {dest_ms:4.2f}", flush=True)
    db.dispose()
    return durable / raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--transport", default="aiohttp-native", choices=("aiohttp", "aiohttp-native", "httpx"))
    parser.add_argument("--pg", default=os.environ.get("GATEWAY_BENCH_PG", PG_DEFAULT))
    parser.add_argument("--modes", default="receipt,ack")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1, help="raw/outbox pairs per database and mode")
    parser.add_argument("--transports", action="store_true", help="first compare the client transports")
    parser.add_argument("--profile", action="store_true",
                        help="profile the worker (cProfile) and print where its time goes (slows the outbox side)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "delivery"))
    from delivery_helpers import RecordingServer

    if os.environ.get("BENCH_DEFAULT_GC") != "1":  # the collector as `gateway worker` tunes it (both sides)
        from gateway.runtime import tune_collector

        tune_collector()
    work = Path(tempfile.mkdtemp(prefix="bench-deliver-"))
    keys_dir = work / "keys"
    server = RecordingServer.start(work / "dest", keys_dir)
    try:
        print(f"recording destination {server.url}; {args.count} one-item bulletins; concurrency {args.concurrency}")
        if args.transports:
            payloads = [data for _, data, _ in sign_all(keys_dir, min(args.count, 2000), "raw")]
            print("transport (raw loop, signed receipts in every answer):")
            for transport in ("httpx", "aiohttp", "aiohttp-native"):
                rate = asyncio.run(raw_loop(server.url, payloads, args.concurrency, transport))
                print(f"  {transport:8s} {rate:8.0f} req/s")
        for db_name in args.databases.split(","):
            for mode in args.modes.split(","):
                ratios = []
                for _ in range(args.repeat):
                    drop = None
                    if db_name == "sqlite":
                        url = f"sqlite:///{work / f'bench-{mode}-{uuid.uuid4().hex[:6]}.db'}"
                    else:
                        try:
                            url, drop = fresh_pg(args.pg)
                        except Exception as exc:  # noqa: BLE001
                            print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped")
                            break
                    try:
                        ratios.append(run_one(args, server, keys_dir, db_name, mode, url))
                    finally:
                        if drop:
                            drop()
                if len(ratios) > 1:
                    print(f"{db_name:10s} {mode:7s} ratio median {statistics.median(ratios):4.2f} "
                          f"(range {min(ratios):4.2f}-{max(ratios):4.2f}, {len(ratios)} pairs)", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
