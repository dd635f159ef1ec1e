"""Partner query throughput: credit lookups against a trivial connexion endpoint, driven by wrk.

    .venv/bin/python bench/query.py [--subjects 1000000] [--seconds 10] [--sqlite-only | --pg-only]

For each database: load N subjects as the gateway holds them (`bench/_load.py`: one penalty and
its stored standing each; one in a thousand on the joint punishment list through the real
procedure), register a land office with an API key, then serve, each in its own process with
uvicorn on loopback, (a) the gateway app (authentication, authorisation, the rate-limit
bucket, the stored standing, the sector view, an audit entry per request, group-committed)
and (b) a trivial connexion app (one GET, no security): the framework's own limit on this
machine. wrk (C) drives each with 16 connections for `--seconds`, random subjects; a Python
client would measure itself. Then 5 eligibility checks of 1,000 bidders (990 clean, 10 listed).

Targets (issue "One truth for each subject's standing"): credit lookups >= 0.5 x the trivial
endpoint's req/s and p99 <= 25 ms at 16 connections; 1,000 bidders <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._wrk import run_wrk, spawn, stop  # noqa: E402

CONNECTIONS = 16
TRIVIAL_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "trivial", "version": "1"},
    "paths": {"/trivial/{code}": {"get": {
        "operationId": "bench.query.trivial",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 80}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}},
}


def trivial(code: str) -> dict:
    return {"subject": code, "ok": True}


def serve(kind: str, url: str, port: int, keys_dir: str) -> None:
    import logging

    import uvicorn

    logging.disable(logging.WARNING)
    if kind == "trivial":
        from connexion import AsyncApp

        app = AsyncApp(__name__)
        app.add_api(TRIVIAL_SPEC, strict_validation=True, validate_responses=False, pythonic_params=False)
    else:
        from gateway.access.settings import load_access_settings
        from gateway.app import create_app
        from gateway.bootstrap import build
        from gateway.config import load_settings
        from gateway.delivery.destinations import DestinationRegistry
        from gateway.signing.keys import ensure_dev_keyring

        services = build(load_settings(database_url=url, keys_dir=keys_dir),
                         destinations=DestinationRegistry({}, keys_dir=Path(keys_dir)),
                         keyring=ensure_dev_keyring(keys_dir), access=load_access_settings(rate_limits={}))
        app = create_app(services)
    import gc

    gc.freeze()  # as `gateway run` and `gateway serve` do, for both apps
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def eligibility(base: str, token: str, codes: list[str], runs: int = 5) -> dict:
    import httpx

    times, body = [], {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for _ in range(runs + 1):
            t = time.perf_counter()
            r = client.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": codes})
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:300]
            body = r.json()
    return {"median_ms": 1000 * statistics.median(times[1:]), "best_ms": 1000 * min(times[1:]), "counts": body["counts"]}


def measure(url: str, keys_dir: Path, data: dict, token: str, seconds: float) -> dict:
    rng = random.Random(7)
    sample = rng.sample(data["codes"], min(len(data["codes"]), 20_000))
    paths = [f"/v1/credit/{c}" for c in sample] + [f"/v1/credit/{c}" for c in data["listed"][:500]]
    out: dict = {}
    proc, base, _ = spawn(Path(__file__), "--serve", "trivial", "--url", url, "--keys-dir", str(keys_dir))
    try:
        run_wrk(base, [f"/trivial/{c}" for c in sample[:200]], {}, 2, CONNECTIONS)  # warm up
        out["trivial"] = run_wrk(base, [f"/trivial/{c}" for c in sample], {}, seconds, CONNECTIONS)
    finally:
        stop(proc)
    proc, base, _ = spawn(Path(__file__), "--serve", "gateway", "--url", url, "--keys-dir", str(keys_dir))
    try:
        auth = {"Authorization": f"Bearer {token}"}
        run_wrk(base, paths[:200], auth, 2, CONNECTIONS)  # warm up: the key cache, the plans
        out["credit"] = run_wrk(base, paths, auth, seconds, CONNECTIONS)
        bidders = rng.sample(sample, 990) + data["listed"][:10]
        out["eligibility_1000"] = eligibility(base, token, bidders)
    finally:
        stop(proc)
    out["ratio"] = out["credit"]["rps"] / out["trivial"]["rps"]
    return out


def run_one(label: str, url: str, n: int, seconds: float) -> dict:
    from bench._load import bench_services, load, partner_token

    keys_dir = Path(tempfile.mkdtemp(prefix="gw-bench-keys-"))
    services = bench_services(url, keys_dir)
    data = load(services, n, log=lambda m: print(f"[{label}]{m}", flush=True))
    token = partner_token(services)
    services.close()
    print(f"[{label}] loaded {n:,} subjects in {data['load_seconds']:.1f} s", flush=True)
    return {"database": label, "subjects": n, **measure(url, keys_dir, data, token, seconds)}


def report(r: dict) -> None:
    t, c, e = r["trivial"], r["credit"], r["eligibility_1000"]
    print(f"\n{r['database']} ({r['subjects']:,} subjects, {CONNECTIONS} connections, wrk)")
    print(f"  trivial endpoint : {t['rps']:8.0f} req/s   p50 {t['p50_ms']:6.1f} ms   p99 {t['p99_ms']:6.1f} ms")
    print(f"  credit lookup    : {c['rps']:8.0f} req/s   p50 {c['p50_ms']:6.1f} ms   p99 {c['p99_ms']:6.1f} ms"
          f"   errors {c['errors']}")
    print(f"  ratio            : {r['ratio']:.2f} (target >= 0.5)   p99 target <= 25 ms")
    print(f"  eligibility 1,000: median {e['median_ms']:.0f} ms, best {e['best_ms']:.0f} ms (target <= 50 ms) {e['counts']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--serve", choices=["trivial", "gateway"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keys-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port, args.keys_dir)
        return 0
    from bench._common import postgres_url, sqlite_url

    results = []
    if not args.pg_only:
        results.append(run_one("sqlite", sqlite_url(), args.subjects, args.seconds))
    if not args.sqlite_only:
        pg = postgres_url()
        if pg:
            url, drop = pg
            try:
                results.append(run_one("postgresql", url, args.subjects, args.seconds))
            finally:
                drop()
    for r in results:
        report(r)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
