"""The whole path of a record: N rows uploaded by an agency over HTTP to `gateway run`, timed until
the change feed is empty (every standing and every publication item current).

    .venv/bin/python bench/pipeline.py [--rows 100000] [--batch 10000] [--sqlite-only | --pg-only]

For each database: a fresh `gateway run` (API, change-feed consumer, delivery worker, scheduler
in one process, as deployed embedded) with three destinations (a platform, a land office and
the agency above: the local recorder, no schedule, so nothing is batched while measuring), an
agency key, then `--rows` records (penalties for a third as many subjects, one accident in
twenty) posted to `POST /v1/records:batch` in `--batch`-sized requests, one after another.

Printed per database: the upload (time, rows/s, the slowest request), the time until the
feed is empty after the last answer, rows/s end to end, standings and items written.
Then the same number of penalty rows as one CSV file in one request (`POST /v1/records:import`,
`--file-rows`): its time to answer against the 30 s request timeout.

Targets: >= 4,000 rows/s on SQLite, >= 2,500 on PostgreSQL, at 100,000 rows; no request near
the 30 s request timeout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._wrk import free_port, stop, wait_listening  # noqa: E402

LAYOUT = {"platform": {"sector": "platform"}, "land": {"sector": "land", "item_kinds": ["list"]},
          "agency": {"sector": "agency"}}


def make_rows(n: int, seed: int = 7) -> list[dict]:
    from tests.factories import accident, make_uscc, penalty

    rng = random.Random(seed)
    today = dt.date.today()
    codes = [make_uscc(30_000 + i) for i in range(max(1, n // 3))]
    rows = []
    for i in range(n):
        code = rng.choice(codes)
        day = (today - dt.timedelta(days=rng.randrange(5, 300))).isoformat()
        if i % 20 == 0:
            rows.append(accident(f"A{i}", code, day, grade="general", deaths=rng.choice([0, 1]), injuries=1))
        else:
            rows.append(penalty(f"P{i}", code, decided=day))
    return rows


def prepare(url: str, work: Path) -> tuple[dict[str, str], str]:
    """A migrated database with the agency and its key; the environment of `gateway run`."""
    from gateway.access import keys
    from gateway.access.testing import partner_uscc
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.delivery.destinations import DestinationRegistry
    from gateway.intake import repository as intake_repo
    from gateway.store import migrate
    from gateway.store.db import Database

    db = Database(url)
    migrate.upgrade(db)
    services = build(load_settings(database_url=url, keys_dir=work / "keys"), db=db,
                     destinations=DestinationRegistry({}, keys_dir=work / "keys"))
    now = services.clock.now()
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=now)
        keys.add_partner(conn, uscc_code=partner_uscc("agency"), name="绵阳市应急管理局", sector="agency", now=now,
                         agency_code="MY-AJJ")
        token = keys.issue_key(conn, partner_uscc=partner_uscc("agency"), now=now, days=2).token
    services.close()
    dest = work / "destinations.yaml"
    dest.write_text(yaml.safe_dump({"destinations": {
        name: {"adapter": "adapters.local:factory", "subscription": spec,
               "options": {"record_file": str(work / f"{name}.jsonl")}} for name, spec in LAYOUT.items()}}))
    env = {**os.environ, "GATEWAY_DATABASE_URL": url, "GATEWAY_DESTINATIONS_FILE": str(dest),
           "GATEWAY_KEYS_DIR": str(work / "keys"), "GATEWAY_LOG_LEVEL": "WARNING",
           "GATEWAY_RATE_LIMITS": json.dumps({"agency": 100000}), "PYTHONPATH": str(ROOT)}
    env.pop("GATEWAY_CONFIG_FILE", None)
    return env, token


def counts(url: str) -> tuple[int, int, int]:
    from sqlalchemy import create_engine, func, select

    from gateway.store.change_tables import subject_changes
    from gateway.store.policy_tables import standings
    from gateway.store.publication_tables import publication_items

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (subject_changes, standings, publication_items))
    finally:
        engine.dispose()


def start_gateway(env: dict[str, str], work: Path) -> tuple[Any, int]:
    """`gateway run` in its own process on a free loopback port, once it listens."""
    import subprocess

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())",
                             "run", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=open(work / "gateway.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_listening(port, proc)
    return proc, port


def run_one(label: str, url: str, rows: list[dict], batch: int) -> dict:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="gw-pipeline-"))
    env, token = prepare(url, work)
    proc, port = start_gateway(env, work)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        slowest = 0.0
        t0 = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as client:
            for k in range(0, len(rows), batch):
                t = time.perf_counter()
                r = client.post("/v1/records:batch", params={"agency": "MY-AJJ"}, json={"records": rows[k:k + batch]})
                slowest = max(slowest, time.perf_counter() - t)
                assert r.status_code == 200, r.text[:500]
                assert r.json()["counts"]["rejected"] == 0, r.json()["counts"]
        uploaded = time.perf_counter() - t0
        while True:
            pending, stored, items = counts(url)
            if pending == 0:
                break
            time.sleep(0.2)
        total = time.perf_counter() - t0
    finally:
        stop(proc)
    return {"database": label, "rows": len(rows), "upload_seconds": uploaded, "slowest_request_seconds": slowest,
            "drain_after_upload_seconds": total - uploaded, "total_seconds": total, "rows_per_second": len(rows) / total,
            "upload_rows_per_second": len(rows) / uploaded, "standings": stored, "items": items}


def penalties_csv(n: int, offset: int = 0) -> bytes:
    """N penalty rows as one CSV file, headed with the data fields' codes (the decision number
    is the source record id); `offset` numbers the rows of a further file."""
    import csv
    import io

    from tests.factories import make_uscc, penalty

    today = dt.date.today()
    rows = [penalty(f"F{i}", make_uscc(60_000 + i % max(1, (n + offset) // 3)),
                    decided=(today - dt.timedelta(days=5 + i % 290)).isoformat())["data"]
            for i in range(offset, offset + n)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def run_file(label: str, url: str, n: int) -> dict:
    """One CSV file of N rows as one request (`POST /v1/records:import`): the time to answer
    against the 30 s request timeout, then until the feed is empty."""
    import httpx

    work = Path(tempfile.mkdtemp(prefix="gw-pipeline-file-"))
    env, token = prepare(url, work)
    body = penalties_csv(n)
    # the file as one request whatever its size (the default body limit is 32 MB: a file over
    # it is refused with 413 at once, which measures nothing)
    env["GATEWAY_MAX_BODY_BYTES"] = str(max(32 * 1024 * 1024, len(body) + 1024 * 1024))
    proc, port = start_gateway(env, work)
    try:
        t0 = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=300) as client:
            r = client.post("/v1/records:import", params={"agency": "MY-AJJ", "kind": "penalty"}, content=body,
                            headers={"Content-Type": "text/csv"})
        answered = time.perf_counter() - t0
        accepted = r.json().get("counts", {}).get("accepted") if r.status_code == 200 else None
        while counts(url)[0]:
            time.sleep(0.2)
        total = time.perf_counter() - t0
    finally:
        stop(proc)
    return {"database": label, "rows": n, "megabytes": len(body) / 1e6, "status": r.status_code,
            "accepted": accepted, "answer_seconds": answered, "total_seconds": total}


def report_file(r: dict) -> None:
    print(f"\n{r['database']}: one CSV file of {r['rows']:,} rows ({r['megabytes']:.1f} MB) as one request")
    print(f"  answered          : HTTP {r['status']} after {r['answer_seconds']:.1f} s (the timeout is 30 s); "
          f"{r['accepted']} rows accepted")
    if r["status"] == 200:
        print(f"  feed empty after  : {r['total_seconds']:.1f} s from the start = "
              f"{r['rows'] / r['total_seconds']:,.0f} rows/s")


def report(r: dict, target: int) -> None:
    print(f"\n{r['database']}: {r['rows']:,} rows over HTTP to `gateway run`")
    print(f"  upload            : {r['upload_seconds']:6.1f} s  ({r['upload_rows_per_second']:,.0f} rows/s; "
          f"slowest request {r['slowest_request_seconds']:.1f} s, the timeout is 30 s)")
    print(f"  feed empty after  : {r['drain_after_upload_seconds']:6.1f} s more")
    print(f"  end to end        : {r['total_seconds']:6.1f} s = {r['rows_per_second']:,.0f} rows/s "
          f"(target >= {target:,}; ratio {r['rows_per_second'] / target:.2f})")
    print(f"  written           : {r['standings']:,} standings, {r['items']:,} publication items")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--file-rows", type=int, default=None,
                        help="also send one CSV file of this many rows as one request (default: --rows)")
    parser.add_argument("--file-only", action="store_true", help="only the one-file request")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from bench._common import postgres_url, sqlite_url

    rows = make_rows(args.rows) if not args.file_only else []
    file_rows = args.file_rows if args.file_rows is not None else args.rows
    results, files = [], []
    if not args.pg_only:
        if rows:
            results.append((run_one("sqlite", sqlite_url(), rows, args.batch), 4000))
        if file_rows:
            files.append(run_file("sqlite", sqlite_url(), file_rows))
    if not args.sqlite_only:
        runs = [lambda url: results.append((run_one("postgresql", url, rows, args.batch), 2500))] if rows else []
        if file_rows:
            runs.append(lambda url: files.append(run_file("postgresql", url, file_rows)))
        for run in runs:  # each in a fresh schema
            pg = postgres_url()
            if pg:
                url, drop = pg
                try:
                    run(url)
                finally:
                    drop()
    for r, target in results:
        report(r, target)
    for r in files:
        report_file(r)
    if args.json:
        Path(args.json).write_text(json.dumps([r for r, _ in results] + files, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
