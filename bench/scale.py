"""Scale on PostgreSQL: credit-lookup latency at 10,000 subjects against N, and the daily sweep
over N subjects of which 1,000 change that day.

    .venv/bin/python bench/scale.py [--large 10000000] [--small 10000] [--seconds 10] [--due 1000]

Two fresh schemas are loaded as `bench/query.py` loads them (`bench/_load.py`: every subject
with a penalty record and the stored standing the consumer writes, one in a thousand listed
through the real procedure), `--small` and `--large` subjects. In each, `gateway serve`'s app
(the same process layout as bench/query.py) is driven by wrk with 16 connections for
`--seconds` over random subjects; the figure is the p99 of the large against the small.

Then the sweep, in the large schema: `--due` random subjects get a next-change day before
every other subject's, and `PolicyService.sweep` runs as of that day, as the scheduler's
daily job does: the indexed query for the subjects due, their change rows, and the consumer
deciding each (snapshot, decide, standing, publication items). Printed: the seconds, how
many were enqueued and decided.

Disk: about 7 KB per subject in PostgreSQL (the record, decision and standing bodies as JSONB,
and their indexes): 10,000,000 subjects need some 71 GB free. Do not run it beside the test
suite: one of its tests restarts the PostgreSQL server.

Targets (issue "One truth for each subject's standing"): p99 at 10,000,000 <= 1.5 x the p99
at 10,000; the sweep over 1,000,000 subjects with 1,000 due <= 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._wrk import run_wrk, spawn, stop  # noqa: E402

CONNECTIONS = 16
QUERY = ROOT / "bench" / "query.py"  # its --serve gateway mode serves the app


def lookups(url: str, keys_dir: Path, data: dict, token: str, seconds: float) -> dict:
    rng = random.Random(11)
    sample = rng.sample(data["codes"], min(len(data["codes"]), 20_000))
    paths = [f"/v1/credit/{c}" for c in sample] + [f"/v1/credit/{c}" for c in data["listed"][:500]]
    proc, base, _ = spawn(QUERY, "--serve", "gateway", "--url", url, "--keys-dir", str(keys_dir))
    try:
        auth = {"Authorization": f"Bearer {token}"}
        run_wrk(base, paths[:200], auth, 2, CONNECTIONS)  # warm up
        return run_wrk(base, paths, auth, seconds, CONNECTIONS)
    finally:
        stop(proc)


def sweep(services, due: int) -> dict:
    """`due` random subjects made due on a day before every other subject's next change day."""
    from sqlalchemy import func, select, update

    from gateway.store.policy_tables import standings

    db = services.db
    with db.read() as conn:
        first = conn.execute(select(func.min(standings.c.next_change_on))).scalar_one()
        top = conn.execute(select(func.max(standings.c.subject_id))).scalar_one()
    day = (first or dt.date.today() + dt.timedelta(days=30)) - dt.timedelta(days=1)
    ids = random.Random(5).sample(range(1, top + 1), due)
    with db.write() as conn:
        conn.execute(update(standings).where(standings.c.subject_id.in_(ids)).values(next_change_on=day))
    t = time.perf_counter()
    result = services.policy.sweep(as_of=day)
    seconds = time.perf_counter() - t
    # its two reports alone, for the share of the total (the bench's records have no
    # publication items: every one of them is past its deadline unpublished)
    from gateway.policy.repository import starless_subjects
    from gateway.publication.repository import overdue_publications

    with db.read() as conn:
        t = time.perf_counter()
        overdue = overdue_publications(conn, day)[0]
        overdue_s = time.perf_counter() - t
        t = time.perf_counter()
        starless_subjects(conn, services.profile.name)
        starless_s = time.perf_counter() - t
    return {"as_of": day.isoformat(), "seconds": seconds, "subjects_decided": result.subjects_decided,
            "overdue_report_seconds": overdue_s, "overdue_records": overdue, "star_report_seconds": starless_s}


def load_schema(label: str, url: str, n: int) -> tuple:
    from bench._load import bench_services, load, partner_token

    keys_dir = Path(tempfile.mkdtemp(prefix="gw-scale-keys-"))
    services = bench_services(url, keys_dir)
    data = load(services, n, log=lambda m: print(f"[{label}]{m}", flush=True))
    token = partner_token(services)
    print(f"[{label}] loaded {n:,} subjects in {data['load_seconds']:.0f} s", flush=True)
    return services, keys_dir, data, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    from bench._common import postgres_url

    out: dict = {}
    for label, n in (("small", args.small), ("large", args.large)):
        pg = postgres_url()
        if pg is None:
            print("PostgreSQL is not reachable: this benchmark needs it", file=sys.stderr)
            return 2
        url, drop = pg
        try:
            services, keys_dir, data, token = load_schema(label, url, n)
            out[label] = {"subjects": n, **lookups(url, keys_dir, data, token, args.seconds)}
            if label == "large":
                out["sweep"] = {"subjects": n, "due": args.due, **sweep(services, args.due)}
            services.close()
        finally:
            drop()
    s, big, sw = out["small"], out["large"], out["sweep"]
    print(f"\nPostgreSQL, credit lookups, {CONNECTIONS} connections, wrk, {args.seconds:g} s each")
    for r in (s, big):
        print(f"  {r['subjects']:>12,} subjects: {r['rps']:7.0f} req/s   p50 {r['p50_ms']:6.1f} ms   "
              f"p99 {r['p99_ms']:6.1f} ms   errors {r['errors']}")
    print(f"  p99 ratio large/small: {big['p99_ms'] / s['p99_ms']:.2f} (target <= 1.5)")
    print(f"\nDaily sweep over {sw['subjects']:,} subjects, {sw['due']:,} due on {sw['as_of']}: "
          f"{sw['seconds']:.2f} s (target <= 5 s); {sw['subjects_decided']:,} subjects decided")
    print(f"  of which its reports: overdue 双公示 records {sw['overdue_report_seconds']:.2f} s "
          f"({sw['overdue_records']:,} records), star report {sw['star_report_seconds']:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
