"""Partner query throughput: credit lookups/s and latency against a trivial connexion endpoint.

    .venv/bin/python bench/query.py [--subjects 1000000] [--seconds 10] [--sqlite-only | --pg-only]

For each database: bulk-load N subjects (1 % with records, a tenth of those on the joint
punishment list), register a land office with an API key, then serve, each in its own
process with uvicorn on loopback, (a) the gateway app (authentication, authorisation, rate
limit bucket, the standing from the policy engine, the sector view, and an audit entry per
request, group-committed) and (b) a trivial connexion app (one GET, no security) — the
framework's own limit on this machine. One httpx async client drives each with 16
connections for `--seconds`. Then 5 eligibility checks of 1,000 bidders, client-side time.

Targets: gateway >= 0.5 x trivial req/s; p99 <= 25 ms at 16 connections; 1,000 bidders <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTIONS = 16


# --- the trivial app ---------------------------------------------------------------------------

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


# --- data --------------------------------------------------------------------------------------

def _uscc_maker():
    from gateway.domain.identifiers import orgcode, uscc

    def make(seq: int) -> str:
        body8 = f"{seq:08d}"
        org = body8 + orgcode.calc_check_digit(body8)
        first17 = "91510703" + org
        return first17 + uscc.calc_check_digit(first17)

    return make


def load(url: str, n: int, keys_dir: Path) -> dict:
    from sqlalchemy import select, text

    from gateway.access import keys as access_keys
    from gateway.access.testing import partner_uscc
    from gateway.intake import migrate
    from gateway.intake import repository as intake_repo
    from gateway.store.db import Database
    from gateway.store.tables import records, subjects

    db = Database(url)
    migrate.upgrade(db)
    now = dt.datetime.now(dt.UTC)
    make = _uscc_maker()
    t0 = time.perf_counter()
    with db.write() as conn:
        agency_id = intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                              uscc=None, now=now)
    codes = []
    batch = 20_000
    for start in range(0, n, batch):
        rows = []
        for i in range(start + 1, min(n, start + batch) + 1):
            code = make(i)
            codes.append(code)
            rows.append({"key": code, "uscc": code, "category": "legal_person", "name": f"绵阳市测试企业{i}有限公司",
                         "region": "510703", "display_id": None, "created_at": now, "changed_at": now})
        with db.write() as conn:
            conn.execute(subjects.insert(), rows)
    with db.read() as conn:
        ids = dict(conn.execute(select(subjects.c.key, subjects.c.id)).all()) if n <= 200_000 else None
    recent = (now - dt.timedelta(days=30)).date()  # listings run a year from the event: keep them in force
    with_records = codes[:: 100]
    recs = []
    for j, code in enumerate(with_records):
        sid = ids[code] if ids is not None else None
        if sid is None:
            with db.read() as conn:
                sid = conn.execute(select(subjects.c.id).where(subjects.c.key == code)).scalar_one()
        listed = j % 10 == 0
        data = ({"case": "jp02_unlicensed_operation", "occurred_on": recent.isoformat(), "evidence_ref": f"E{j}",
                 "person_role": "unit"} if listed else
                {"CF_XDR_MC": "某企业", "CF_XDR_SHXYM": code, "CF_XZCFJDSWH": f"罚{j}", "CF_WFXW": "x", "CF_WFSS": "x",
                 "CF_YJ": "x", "CF_CFLB": "罚款", "CF_NR": "x", "CF_NR_FK": "2", "CF_JDRQ": recent.isoformat(),
                 "CF_CFJG": "绵阳市应急管理局", "CF_CFJGDM": "11510700MB1234567X"})
        recs.append({"uid": f"rec_{j:032d}", "subject_id": sid, "agency_id": agency_id, "source_record_id": f"S{j}",
                     "kind": "violation" if listed else "penalty", "version": 1, "status": "current", "action": "publish",
                     "content_hash": "0" * 64, "data": data, "region": "510703",
                     "event_date": recent, "publish_by_estimated": False,
                     "received_at": now})
    with db.write() as conn:
        for k in range(0, len(recs), 5000):
            conn.execute(records.insert(), recs[k:k + 5000])
        if db.dialect == "postgresql":
            conn.execute(text("ANALYZE"))
    with db.write() as conn:
        access_keys.add_partner(conn, uscc_code=partner_uscc("land"), name="绵阳市自然资源和规划局", sector="land", now=now)
        issued = access_keys.issue_key(conn, partner_uscc=partner_uscc("land"), now=now, days=2)
    db.dispose()
    return {"codes_sample": random.Random(7).sample(codes, min(len(codes), 20_000)), "listed": with_records[::10],
            "token": issued.token, "load_seconds": time.perf_counter() - t0}


# --- serving -------------------------------------------------------------------------------------

def serve(kind: str, url: str, port: int, keys_dir: str) -> None:
    import logging

    import uvicorn

    logging.disable(logging.WARNING)
    if kind == "trivial":
        from connexion import AsyncApp

        app = AsyncApp(__name__)
        app.add_api(TRIVIAL_SPEC, strict_validation=True, validate_responses=False, pythonic_params=False)
    else:
        from gateway.access import install
        from gateway.access.settings import load_access_settings
        from gateway.app import create_app
        from gateway.bootstrap import build
        from gateway.config import load_settings
        from gateway.signing.keys import ensure_dev_keyring

        services = build(load_settings(database_url=url, keys_dir=keys_dir))
        install(services)
        services.extras["keyring"] = ensure_dev_keyring(keys_dir)
        services.extras["access_settings"] = load_access_settings(rate_limits={}, list_source="decide")
        app = create_app(services)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, url: str, keys_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(port),
                             "--keys-dir", str(keys_dir)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


# --- driving -------------------------------------------------------------------------------------

async def drive(base: str, paths: list[str], headers: dict, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        for p in paths[:50]:  # warm up
            await client.get(p)
        stop = time.perf_counter() + seconds
        rng = random.Random(1)

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                path = paths[rng.randrange(len(paths))]
                t = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))], "requests": len(latencies), "errors": errors}


async def eligibility(base: str, headers: dict, codes: list[str], runs: int = 5) -> dict:
    import httpx

    times = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        body = {}
        for _ in range(runs + 1):
            t = time.perf_counter()
            r = await client.post("/v1/eligibility:check", json={"purpose": "land_auction", "bidders": codes})
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:300]
            body = r.json()
    return {"median_ms": 1000 * statistics.median(times[1:]), "best_ms": 1000 * min(times[1:]), "counts": body["counts"]}


def run_one(label: str, url: str, n: int, seconds: float) -> dict:
    keys_dir = Path(tempfile.mkdtemp(prefix="gw-bench-keys-"))
    data = load(url, n, keys_dir)
    print(f"[{label}] loaded {n:,} subjects in {data['load_seconds']:.1f} s", flush=True)
    headers = {"Authorization": f"Bearer {data['token']}"}
    sample = data["codes_sample"]
    listed = data["listed"]
    paths = [f"/v1/credit/{c}" for c in sample[:5000]] + [f"/v1/credit/{c}" for c in listed[:500]]
    out = {"database": label, "subjects": n}
    proc, base = start("trivial", url, keys_dir)
    try:
        out["trivial"] = asyncio.run(drive(base, [f"/trivial/{c}" for c in sample[:5000]], {}, seconds))
    finally:
        proc.terminate()
        proc.wait()
    proc, base = start("gateway", url, keys_dir)
    try:
        out["credit"] = asyncio.run(drive(base, paths, headers, seconds))
        bidders = random.Random(3).sample(sample, 990) + listed[:10]
        out["eligibility_1000"] = asyncio.run(eligibility(base, headers, bidders))
    finally:
        proc.terminate()
        proc.wait()
    out["ratio"] = out["credit"]["rps"] / out["trivial"]["rps"]
    return out


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
        t, c, e = r["trivial"], r["credit"], r["eligibility_1000"]
        print(f"\n{r['database']} ({r['subjects']:,} subjects, {CONNECTIONS} connections)")
        print(f"  trivial endpoint : {t['rps']:8.0f} req/s   p50 {t['p50_ms']:6.1f} ms   p99 {t['p99_ms']:6.1f} ms")
        print(f"  credit lookup    : {c['rps']:8.0f} req/s   p50 {c['p50_ms']:6.1f} ms   p99 {c['p99_ms']:6.1f} ms"
              f"   errors {c['errors']}")
        print(f"  ratio            : {r['ratio']:.2f} (target >= 0.5)   p99 target <= 25 ms")
        print(f"  eligibility 1,000: median {e['median_ms']:.0f} ms, best {e['best_ms']:.0f} ms (target <= 150 ms) {e['counts']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
