"""Intake throughput against a raw executemany of the same rows, two ways, in one run.

    .venv/bin/python bench/intake.py [--records 20000] [--batch 5000] [--sqlite-only]
                                     [--upload-rows 20000] [--file-rows 5000] [--no-upload]
                                     [--rounds 3]
    .venv/bin/python bench/intake.py --phases [--upload-rows 20000] [--file-rows 5000]

1. storage path: `IntakeService.submit` in process (validation, identifier normalisation,
   subject resolution, versioning, storage and the change feed in one transaction per batch).
2. upload path: `gateway serve` in its own process, and the same number of penalty rows sent
   as CSV files of `--file-rows` rows to `POST /v1/records:import`, one after another, timed
   from the first request to the last answer: HTTP, parse, header mapping, validation,
   storage and the change-feed entries, all as an agency's upload meets them (the feed's
   consumer, which decides standings afterwards, does not run).

3. `--phases` (instead of 1 and 2): the upload path's work without HTTP, in this process on
   SQLite (`import_file` on the same files, then the answer's JSON), and where its time goes
   in microseconds a row: parsing, `prepare` (validation, identifiers, the content hash),
   storage and its parts (each function timed where it is called).

Each raw path inserts the very rows its gateway path stored, with one `executemany` per
batch, into a copy of the records table in the same database in the same run. The ratio is
gateway/raw records per second (target for the upload path: >= 0.5 on SQLite). Each path
runs `--rounds` times, new rows each round, its raw side right after it: the figures
printed are the medians of the rounds, and the spread of the rounds' ratios beside them
(this machine's speed changes by a third from one minute to the next; a ratio measured
once, its two sides a minute apart, moved as much). The raw
`executemany` is SQLAlchemy Core's, as the gateway's own writes were when the target was
set; the gateway now hands its bulk writes to the driver itself (`gateway.store.sql
.executemany`), so a second baseline is printed beside it: the driver's executemany alone,
of rows converted beforehand (what the database itself costs for them), and the ratio to it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import MetaData, func, select  # noqa: E402

from bench._common import postgres_url, sqlite_url  # noqa: E402
from gateway.clock import SystemClock  # noqa: E402
from gateway.domain.calendar import WorkingCalendar  # noqa: E402
from gateway.intake import repository as intake_repo  # noqa: E402
from gateway.intake.service import IntakeService  # noqa: E402
from gateway.store import migrate  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.store.sql import driver_parameters  # noqa: E402
from gateway.store.tables import agencies, records, subjects  # noqa: E402
from tests.factories import accident, licence, make_uscc, penalty  # noqa: E402


def make_records(n: int, seed: int = 7, start: int = 0) -> list[dict]:
    """N records of the three kinds; `start` numbers their source ids (a further round's)."""
    rng = random.Random(seed + start)
    out = []
    subjects = [make_uscc(i + 1, division=rng.choice(["510703", "510704", "510722", "510781"])) for i in range(n // 3 + 1)]
    for i in range(start, start + n):
        code = rng.choice(subjects)
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(300))
        r = rng.random()
        if r < 0.5:
            out.append(penalty(f"CF{i}", code, decided=day.isoformat(), CF_NR_FK=str(rng.randrange(1, 50))))
        elif r < 0.8:
            out.append(licence(f"XK{i}", code, decided=day.isoformat()))
        else:
            out.append(accident(f"SG{i}", code, day.isoformat(), grade="general", deaths=rng.randrange(0, 3)))
    return out


Round = tuple[float, float, float]  # (gateway, raw, driver) records per second of one round


def run(url: str, n: int, batch: int, rounds: int) -> list[Round]:
    """The storage path's rounds (see the module's doc)."""
    db = Database(url)
    migrate.upgrade(db)
    clock = SystemClock()
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="BENCH", name="bench", region="510700", level="city", uscc=None, now=clock.now())
    service = IntakeService(db, clock, WorkingCalendar())
    raw = _Raw(db)
    out = []
    try:
        for r in range(rounds):
            recs = make_records(n, start=r * n)
            t0 = time.perf_counter()
            for start in range(0, n, batch):
                result = service.submit("BENCH", recs[start : start + batch])
                assert result.counts()["rejected"] == 0, result.counts()
            gateway_s = time.perf_counter() - t0
            raw_s, driver_s = raw.seconds(batch, n)
            out.append((n / gateway_s, n / raw_s, n / driver_s))
    finally:
        db.dispose()
    return out


def _raw_copy(db: Database, name: str, prefix: str):  # noqa: ANN202 - a copy of the records table, keys kept
    copy = MetaData()
    subjects.to_metadata(copy)
    agencies.to_metadata(copy)  # the copy keeps the foreign keys (and their checks) of the real table
    raw_table = records.to_metadata(copy, name=name)
    for item in [*raw_table.indexes, *raw_table.constraints]:  # names are per schema: rename the copies
        if item.name:
            item.name = f"{prefix}_{item.name}"
    raw_table.create(db.engine, checkfirst=True)
    return raw_table


class _Raw:
    """The raw sides: copies of the records table, each round's rows inserted into them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.raw_table = _raw_copy(db, "bench_raw_records", "bench")
        self.driver_table = _raw_copy(db, "bench_driver_records", "bdrv")
        self.last_id = 0

    def seconds(self, batch: int, expected: int) -> tuple[float, float]:
        """The seconds to insert the rows the gateway stored since the last call into the
        copies, one transaction per batch, two ways: SQLAlchemy Core's executemany (`raw`),
        and the driver's own executemany of rows converted beforehand, out of the timing
        (`driver`: what SQLite or PostgreSQL itself costs for them)."""
        db = self.db
        with db.read() as conn:
            rows = [dict(r._mapping) for r in
                    conn.execute(select(records).where(records.c.id > self.last_id).order_by(records.c.id))]
        assert len(rows) == expected, (len(rows), expected)
        self.last_id = rows[-1]["id"]
        for row in rows:
            row.pop("id")
        t0 = time.perf_counter()
        for start in range(0, len(rows), batch):
            with db.write() as conn:
                conn.execute(self.raw_table.insert(), rows[start : start + batch])
        raw_s = time.perf_counter() - t0
        with db.write() as conn:  # converted as the gateway's bulk writes convert them, outside the timing
            driven = driver_parameters(conn, ("bench-driver", self.driver_table), self.driver_table.insert, rows)
        assert driven is not None
        sql, params = driven
        t0 = time.perf_counter()
        for start in range(0, len(params), batch):
            with db.write() as conn:
                conn.exec_driver_sql(sql, params[start : start + batch])
        driver_s = time.perf_counter() - t0
        with db.read() as conn:
            total = conn.execute(select(func.count()).select_from(records)).scalar_one()
            for table in (self.raw_table, self.driver_table):
                assert conn.execute(select(func.count()).select_from(table)).scalar_one() == total
        return raw_s, driver_s


def run_upload(url: str, n: int, file_rows: int, rounds: int) -> list[Round]:
    """The upload path's rounds (see the module's doc)."""
    import subprocess
    import tempfile

    import httpx

    from bench._wrk import free_port, stop, wait_listening
    from bench.pipeline import penalties_csv, prepare

    work = Path(tempfile.mkdtemp(prefix="gw-bench-upload-"))
    env, token = prepare(url, work)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())",
                             "serve", "--port", str(port)], cwd=Path(__file__).resolve().parent.parent, env=env,
                            stdout=open(work / "gateway.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    db = Database(url)
    out = []
    try:
        wait_listening(port, proc)
        raw = _Raw(db)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=300) as client:
            client.get("/healthz")  # a connection and the first request's lazy imports out of the timing
            for r in range(rounds):
                bodies = [penalties_csv(min(file_rows, n - start), offset=r * n + start)
                          for start in range(0, n, file_rows)]
                t0 = time.perf_counter()
                for body in bodies:
                    answer = client.post("/v1/records:import", params={"agency": "MY-AJJ", "kind": "penalty"},
                                         content=body, headers={"Content-Type": "text/csv"})
                    assert answer.status_code == 200, answer.text[:500]
                    assert answer.json()["counts"]["accepted"] == body.count(b"\n") - 1, answer.json()["counts"]
                gateway_s = time.perf_counter() - t0
                raw_s, driver_s = raw.seconds(file_rows, n)
                out.append((n / gateway_s, n / raw_s, n / driver_s))
    finally:
        stop(proc)
        db.dispose()
    return out


def _line(name: str, rounds: list[Round], target: str | None) -> str:
    """A database's line: the rounds' median figures, and the spread of their ratios."""
    gw, raw, driver = (statistics.median(r[i] for r in rounds) for i in range(3))
    ratios = sorted(r[0] / r[1] for r in rounds)
    driver_ratio = statistics.median(r[0] / r[2] for r in rounds)
    spread = f"{ratios[0]:.2f}-{ratios[-1]:.2f}"
    middle = "" if target is None else f"{target:>8}"
    return (f"{name:<12}{gw:>15,.0f}{raw:>12,.0f}{statistics.median(ratios):>8.2f}{spread:>11}{middle}"
            f"{driver:>15,.0f}{driver_ratio:>8.2f}")


def run_phases(n: int, file_rows: int) -> None:
    """The upload path in process, timed by phase (see the module's doc)."""
    import json
    import tempfile

    from bench.pipeline import penalties_csv, prepare
    from gateway.bootstrap import build
    from gateway.changes import feed
    from gateway.config import load_settings
    from gateway.delivery.destinations import DestinationRegistry
    from gateway.intake import importing
    from gateway.intake import service as intake_service
    from gateway.runtime import tune_collector

    tune_collector()  # as `gateway serve` runs
    work = Path(tempfile.mkdtemp(prefix="gw-bench-phases-"))
    url = sqlite_url()
    prepare(url, work)
    db = Database(url)
    services = build(load_settings(database_url=url, keys_dir=work / "keys"), db=db,
                     destinations=DestinationRegistry({}, keys_dir=work / "keys"))
    spent: dict[str, float] = dict.fromkeys(["parse (CSV, header mapping)", "prepare (validation, identifiers, hash)",
                                             "storage, in all"], 0.0)

    def timed(owner, name: str, label: str) -> None:  # noqa: ANN001
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
        setattr(owner, name, wrapper)

    timed(importing, "parse_file", "parse (CSV, header mapping)")
    timed(intake_service, "prepare", "prepare (validation, identifiers, hash)")
    timed(intake_service.IntakeService, "_store", "storage, in all")
    for name in ("latest_versions", "resolve_subjects", "insert_records", "record_identifiers_and_names"):
        timed(intake_service.repo, name, f"  storage: {name}")
    timed(feed, "enqueue", "  storage: the change feed")
    bodies = [penalties_csv(min(file_rows, n - start), offset=start) for start in range(0, n, file_rows)]
    t0 = time.perf_counter()
    for body in bodies:
        result = importing.import_file(services.intake, "MY-AJJ", body, content_type="text/csv")
        t = time.perf_counter()
        json.dumps(result.to_dict(), ensure_ascii=False)
        spent["the answer's JSON"] = spent.get("the answer's JSON", 0.0) + time.perf_counter() - t
        assert result.counts()["accepted"] == body.count(b"\n") - 1, result.counts()
    total = time.perf_counter() - t0
    db.dispose()
    print(f"upload path in process (no HTTP), SQLite: {n} rows in files of {file_rows}: "
          f"{n / total:,.0f} rows/s, {1e6 * total / n:,.0f} us a row")
    for label, seconds in spent.items():
        print(f"{label:<44}{1e6 * seconds / n:>8.1f} us a row")


HEAD = f"{'database':<12}{'gateway rec/s':>15}{'raw rec/s':>12}{'ratio':>8}{'(rounds)':>11}"
DRIVER_HEAD = f"{'driver rec/s':>15}{'ratio':>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--upload-rows", type=int, default=20_000, help="rows sent over HTTP as CSV files")
    parser.add_argument("--file-rows", type=int, default=5_000, help="rows per uploaded file (and raw batch)")
    parser.add_argument("--no-upload", action="store_true", help="only the storage path")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each path (medians printed)")
    parser.add_argument("--phases", action="store_true", help="the upload path in process, by phase")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.phases:
        run_phases(args.upload_rows, args.file_rows)
        return
    targets = [("SQLite", sqlite_url(), None)]
    if not args.sqlite_only:
        pg = postgres_url()
        if pg:
            targets.append(("PostgreSQL", pg[0], pg[1]))
    print(f"storage path (IntakeService.submit): {args.records} records, batches of {args.batch}, "
          f"{args.rounds} rounds")
    print(f"{HEAD}{DRIVER_HEAD}")
    for name, url, cleanup in targets:
        try:
            rounds = run(url, args.records, args.batch, args.rounds)
        finally:
            if cleanup:
                cleanup()
        print(_line(name, rounds, None))
    if args.no_upload:
        return
    print(f"\nupload path (HTTP to gateway serve, CSV parse, validate, store, change feed): "
          f"{args.upload_rows} rows in files of {args.file_rows}, {args.rounds} rounds")
    print(f"{HEAD}{'target':>8}{DRIVER_HEAD}")
    for name, _, _ in targets:
        url, cleanup = (sqlite_url(), None) if name == "SQLite" else (postgres_url() or (None, None))
        if url is None:
            continue
        try:
            rounds = run_upload(url, args.upload_rows, args.file_rows, args.rounds)
        finally:
            if cleanup:
                cleanup()
        print(_line(name, rounds, ">= 0.5" if name == "SQLite" else "-"))


if __name__ == "__main__":
    main()
