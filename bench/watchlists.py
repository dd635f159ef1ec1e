"""Watchlists (贷后监控): registering 100,000 subjects, and one change notified to 50 partners.

    .venv/bin/python bench/watchlists.py [--subjects 100000] [--partners 50] [--sqlite-only | --pg-only]

For each database:

1. registration: the gateway app served by uvicorn in its own process (as `gateway serve`),
   a bank's key, one `POST /v1/watchlists` of N subjects as JSON and one as CSV; the time of
   each request as the bank sees it (every code validated, stored, counted);
2. fan-out: P banks, each with its own webhook destination (the bureau adapter, HMAC-signed)
   pointing at one loopback receiver, each with a webhook watchlist on the same subject; the
   consumer, the watch dispatcher and the delivery worker running as in `gateway run`; then
   a joint punishment entry published for the subject: the time from its change entering the
   feed until the last of the P notices arrived at the receiver.

Targets (issue "Beyond the platforms' own practice"): registering 100,000 subjects < 10 s;
a change to one subject watched by 50 partners notified to all within 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._wrk import spawn, stop  # noqa: E402


def register(url: str, n: int) -> dict:
    import httpx

    from bench._load import _code, bench_services, partner_token

    keys_dir = Path(tempfile.mkdtemp(prefix="gw-bench-keys-"))
    services = bench_services(url, keys_dir)
    token = partner_token(services, "finance")
    services.close()
    codes = [_code(1_000_000 + i) for i in range(n)]
    proc, base, _ = spawn(ROOT / "bench" / "query.py", "--serve", "gateway", "--url", url, "--keys-dir", str(keys_dir))
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            t0 = time.perf_counter()
            r = client.post("/v1/watchlists", json={"name": "json", "mode": "poll", "subjects": codes})
            t_json = time.perf_counter() - t0
            assert r.status_code == 201 and r.json()["subjects"] == n, r.text[:300]
            body = ("uscc,reference\n" + "".join(f"{c},L-{i}\n" for i, c in enumerate(codes))).encode()
            t0 = time.perf_counter()
            r = client.post("/v1/watchlists?name=csv&mode=poll", content=body, headers={"content-type": "text/csv"})
            t_csv = time.perf_counter() - t0
            assert r.status_code == 201 and r.json()["subjects"] == n, r.text[:300]
    finally:
        stop(proc)
    return {"subjects": n, "json_s": t_json, "csv_s": t_csv, "json_bytes": len(json.dumps(codes)), "csv_bytes": len(body)}


class _Receiver(BaseHTTPRequestHandler):
    arrivals: dict[str, float] = {}

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        _Receiver.arrivals.setdefault(self.path, time.perf_counter())
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def fan_out(url: str, partners: int) -> dict:
    from sqlalchemy import select

    from bench._load import _code
    from gateway.access import keys
    from gateway.access.testing import partner_uscc
    from gateway.bootstrap import build
    from gateway.changes import feed
    from gateway.config import load_settings
    from gateway.delivery.destinations import DestinationRegistry, parse_destinations
    from gateway.intake import repository as intake_repo
    from gateway.runtime import Background
    from gateway.store import migrate
    from gateway.store.db import Database
    from gateway.store.policy_tables import list_entries
    from gateway.store.tables import subjects
    from tests.factories import penalty

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.arrivals = {}
    keys_dir = Path(tempfile.mkdtemp(prefix="gw-bench-keys-"))
    banks = [partner_uscc("finance", 100 + i) for i in range(partners)]
    configs = parse_destinations({"destinations": {f"bank-{i}": {
        "adapter": "adapters.bureaus:factory",
        "options": {"url": f"http://127.0.0.1:{server.server_port}/hook/{i}", "secret": "s", "partner": bank},
        "subscription": {"sector": "finance", "item_kinds": ["watch"]}} for i, bank in enumerate(banks)}}, "bench")
    db = Database(url)
    migrate.upgrade(db)
    services = build(load_settings(database_url=url, keys_dir=keys_dir, watch_dispatch_interval_seconds=0.25), db=db,
                     destinations=DestinationRegistry(configs, keys_dir=keys_dir))
    now = services.clock.now()
    code = _code(77)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city", uscc=None,
                                  now=now)
        ids = [keys.add_partner(conn, uscc_code=b, name=f"bank {i}", sector="finance", now=now)
               for i, b in enumerate(banks)]
    services.intake.submit("MY-AJJ", [penalty("P1", code, decided=(dt.date.today() - dt.timedelta(days=9)).isoformat())])
    services.consumer.drain()
    for i, (bank, pid) in enumerate(zip(banks, ids, strict=True)):
        who = keys.Principal(key_id=f"bench-{i}", kind="api_key", partner_id=pid, organisation=bank, name=f"bank {i}",
                             sector="finance", agency_code=None, scopes=keys.SECTOR_SCOPES["finance"])
        services.watchlists.create(who, name="loans", mode="webhook", destination=f"bank-{i}", subjects=[(code, None)])
    background = Background(services, scheduler=False).start()
    try:
        time.sleep(1.0)  # the threads are up and idle
        today = dt.date.today()
        with db.write() as conn:
            sid = conn.execute(select(subjects.c.id).where(subjects.c.key == code)).scalar_one()
            conn.execute(list_entries.insert().values(
                uid="ent_" + uuid.uuid4().hex, subject_id=sid, list_kind="joint_punishment", state="published",
                open_key="joint_punishment:bench", cases=["unlicensed_operation"], record_uids=[],
                reasons=[{"case": "jp02_unlicensed_operation", "text_zh": "未取得安全生产许可擅自生产经营"}],
                profile=services.profile.name, starts_on=today, expires_on=today + dt.timedelta(days=365),
                created_at=now, updated_at=now))
            feed.enqueue(conn, [sid], services.clock.now(), "bench")
        t0, wall0 = time.perf_counter(), time.time()
        deadline = t0 + 60
        while len(_Receiver.arrivals) < partners and time.perf_counter() < deadline:
            time.sleep(0.01)
        got = sorted(_Receiver.arrivals.values())
        stages = _stages(db, wall0)
    finally:
        background.stop()
        services.close()
        server.shutdown()
    return {"partners": partners, "notified": len(got), "first_s": got[0] - t0 if got else None,
            "last_s": got[-1] - t0 if got else None, **stages}


def _stages(db, wall0: float) -> dict:  # noqa: ANN001
    """When the changes were planned (consumer), put into bulletins (dispatcher) and first sent
    (delivery worker), in seconds after the change entered the feed."""
    from sqlalchemy import func, select

    from gateway.store.delivery_tables import bulletins, delivery_attempts
    from gateway.store.watch_tables import watch_changes

    with db.read() as conn:
        planned = conn.execute(select(func.max(watch_changes.c.changed_at))).scalar()
        enqueued = conn.execute(select(func.max(bulletins.c.created_at))).scalar()
        sent = conn.execute(select(func.min(delivery_attempts.c.started_at), func.max(delivery_attempts.c.started_at))).one()
    at = lambda v: v.timestamp() - wall0 if v is not None else float("nan")  # noqa: E731
    return {"planned_s": at(planned), "enqueued_s": at(enqueued), "sent_first_s": at(sent[0]), "sent_last_s": at(sent[1])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    args = parser.parse_args()
    from bench._common import postgres_url, sqlite_url

    def fresh(label: str) -> tuple[str, object] | None:
        return (sqlite_url(), None) if label == "sqlite" else postgres_url()

    labels = ([] if args.pg_only else ["sqlite"]) + ([] if args.sqlite_only else ["postgresql"])
    for label in labels:
        results = []
        for step, arg in ((register, args.subjects), (fan_out, args.partners)):  # each on a database of its own
            made = fresh(label)
            if made is None:
                break
            url, drop = made
            try:
                results.append(step(url, arg))
            finally:
                if drop:
                    drop()
        if len(results) < 2:
            continue
        reg, fan = results
        print(f"{label}: register {reg['subjects']:,} subjects: JSON {reg['json_s']:.2f} s ({reg['json_bytes'] / 1e6:.1f} MB), "
              f"CSV {reg['csv_s']:.2f} s ({reg['csv_bytes'] / 1e6:.1f} MB)  [target < 10 s]")
        print(f"{label}: one change, {fan['partners']} watching partners: {fan['notified']} notified, first after "
              f"{fan['first_s']:.2f} s, last after {fan['last_s']:.2f} s  [target: all within 5 s]")
        print(f"{label}:   stages: planned by the consumer {fan['planned_s']:.2f} s, in bulletins {fan['enqueued_s']:.2f} s, "
              f"sends started {fan['sent_first_s']:.2f}–{fan['sent_last_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
