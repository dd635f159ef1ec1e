"""Builders shared by the delivery tests (imported through conftest's sys.path entry)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from adapters.local.recorder import load_records
from gateway.delivery import outbox
from gateway.delivery.destinations import DestinationConfig, DestinationRegistry
from gateway.paths import ROOT
from gateway.publication.bulletin import BulletinHeader, BulletinItem, sign_bulletin
from gateway.signing.keys import ensure_dev_keyring

USCC = "91510700MA62345678"
ISSUER = "11510700MB12345623"


def rating_item(item_id: str) -> BulletinItem:
    return BulletinItem(item_id, "rating", USCC, {"scheme": "star", "value": "4", "score": Decimal("88.5"),
                                                  "year": 2023}, record_id=None)


_KEYS: dict[str, object] = {}


def signing_key(keys_dir):
    """The dev key of `keys_dir`, loaded once (loading an RSA key validates it: ~50 ms)."""
    key = _KEYS.get(str(keys_dir))
    if key is None:
        key = _KEYS[str(keys_dir)] = ensure_dev_keyring(keys_dir).active
    return key


def sign(keys_dir, bulletin_id: str, sequence: int, destination: str = "local", n_items: int = 1,
         now: dt.datetime | None = None) -> tuple[bytes, list[str]]:
    key = signing_key(keys_dir)
    items = [rating_item(f"{bulletin_id}-i{k}") for k in range(n_items)]
    header = BulletinHeader(bulletin_id, sequence, ISSUER, now or dt.datetime.now(dt.UTC), "municipal-2021",
                            destination, "rating")
    return sign_bulletin(header, items, key), [i.item_id for i in items]


def enqueue_many(db, keys_dir, count: int, *, destination: str = "local", now: dt.datetime, n_items: int = 1,
                 prefix: str = "b", record_uid: str | None = None) -> list[str]:
    """Sign and enqueue `count` bulletins; returns their delivery ids."""
    signed = []
    for k in range(count):
        bid = f"{prefix}-{destination}-{k:06d}"
        data, items = sign(keys_dir, bid, k + 1, destination, n_items, now)
        signed.append((bid, data, items))
    ids = []
    with db.write() as conn:
        base = outbox.next_sequence(conn, destination)
        for k, (bid, data, items) in enumerate(signed):
            ids.append(outbox.enqueue_bulletin(
                conn, destination=destination, signed=data, bulletin_id=bid, sequence=base + k, kind="rating",
                items=[(i, record_uid, USCC, "rating") for i in items], now=now))
    return ids


def config(name: str = "local", **kw) -> DestinationConfig:
    body = {"name": name, "adapter": "adapters.local:factory", "trust": "dev",
            "retry": {"strategy": "constant", "base": 0.2, "cap": 600, "max_attempts": 50, "max_age": 3600},
            "breaker": {"failure_threshold": 5, "open_seconds": 1}, "rate_limit": {"per_second": 5000},
            "concurrency": 16, "lease_seconds": 5}
    for key, value in kw.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return DestinationConfig(**body)


def registry(keys_dir, *configs: DestinationConfig) -> DestinationRegistry:
    return DestinationRegistry({c.name: c for c in configs}, keys_dir=Path(keys_dir))


def write_destinations_file(path: Path, *configs: DestinationConfig) -> Path:
    import yaml

    data = {"destinations": {c.name: c.model_dump(exclude={"name"}) for c in configs}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class RecordingServer:
    """The recording destination as a real process on 127.0.0.1 (port 0)."""

    def __init__(self, proc: subprocess.Popen, url: str, record_file: Path) -> None:
        self.proc, self.url, self.record_file = proc, url, record_file

    @classmethod
    def start(cls, workdir: Path, keys_dir, *, untrusted_keys_dir=None) -> RecordingServer:
        workdir.mkdir(parents=True, exist_ok=True)
        port_file = workdir / "port"
        record_file = workdir / "records.jsonl"
        cmd = [sys.executable, "-m", "adapters.local", "--port", "0", "--record-file",
               str(record_file), "--keys-dir", str(keys_dir), "--port-file", str(port_file)]
        if untrusted_keys_dir:
            cmd += ["--untrusted-keys-dir", str(untrusted_keys_dir)]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(workdir / "stderr", "w"))  # noqa: SIM115
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("recording destination did not start: " + (workdir / "stderr").read_text())
            time.sleep(0.05)
        return cls(proc, f"http://127.0.0.1:{port_file.read_text()}", record_file)

    def set_mode(self, **mode) -> dict:
        req = urllib.request.Request(self.url + "/_admin/mode", data=json.dumps(mode).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def records(self) -> list[dict]:
        return load_records(self.record_file)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def applied_once(records: list[dict]) -> dict[str, int]:
    """delivery id → how many times the destination APPLIED it (must be 1 each)."""
    out: dict[str, int] = {}
    for r in records:
        if r.get("applied"):
            out[r["delivery_id"]] = out.get(r["delivery_id"], 0) + 1
    return out


def env_for(db_url: str, destinations_file: Path, keys_dir) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"GATEWAY_DATABASE_URL": db_url, "GATEWAY_DESTINATIONS_FILE": str(destinations_file),
                "GATEWAY_KEYS_DIR": str(keys_dir), "GATEWAY_AUTO_MIGRATE": "false", "GATEWAY_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    return env


# --- a scripted destination (unit tests of the worker's decisions) ------------------------

SCRIPTS: dict[str, list] = {}


class ScriptedDestination:
    """Answers pushes from SCRIPTS[options.script] (a PushResult, or a callable(delivery) -> PushResult);
    the last entry repeats. Records what it was sent in `.sent`."""

    def __init__(self, name: str, script: str) -> None:
        self.name, self.script, self.sent = name, script, []

    async def push(self, delivery):
        self.sent.append(delivery)
        steps = SCRIPTS[self.script]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        return step(delivery) if callable(step) else step

    async def query_receipt(self, delivery_id, bulletin_id):
        return None

    async def aclose(self):
        return None


def scripted_factory(config):
    return ScriptedDestination(config.name, config.options["script"])


# --- worker processes ----------------------------------------------------------------------


def start_worker(env: dict[str, str], log_path: Path, worker_id: str, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())", "worker",
           "--worker-id", worker_id, "--poll-interval", "0.05", "--grace", "3", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log_path, "a"), stderr=subprocess.STDOUT)  # noqa: SIM115


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_final(db, expected: int, timeout: float, procs=()) -> dict[str, int]:
    """Poll until `expected` deliveries are in a final state (or time out); returns counts."""
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        try:
            with db.read() as conn:
                counts = outbox.count_by_state(conn)
        except Exception:  # noqa: BLE001 - the database may be restarting
            time.sleep(0.5)
            continue
        if sum(counts.get(s, 0) for s in outbox.FINAL_STATES) >= expected:
            return counts
        time.sleep(0.2)
    return counts


def check_effect_once(db, records: list[dict], delivery_ids: list[str]) -> None:
    """Every delivery acknowledged (or dead with a reason) and applied exactly once at the destination."""
    applied = applied_once(records)
    assert set(applied) <= set(delivery_ids), "the destination applied deliveries we never made"
    twice = {k: v for k, v in applied.items() if v != 1}
    assert not twice, f"applied more than once: {list(twice.items())[:5]}"
    with db.read() as conn:
        rows = outbox.list_deliveries(conn, limit=len(delivery_ids) + 10)
    by_id = {r.delivery_id: r for r in rows}
    assert set(by_id) == set(delivery_ids), "a delivery row was lost"
    for did in delivery_ids:
        row = by_id[did]
        assert row.state in ("acknowledged", "dead"), f"{did} ended {row.state}"
        if row.state == "acknowledged":
            assert applied.get(did) == 1, f"{did} acknowledged but never applied at the destination"
        else:
            assert row.last_error, f"{did} dead without a reason"


def check_arrivals_and_applies(db, records: list[dict], delivery_ids: list[str]) -> dict[str, int]:
    """The kill -9 proof against a destination that does NOT de-duplicate.

    Arrivals are what the destination's record file says reached it (every one); applies are
    the gateway's: receipts that settled a delivery (verified, not a duplicate, not a
    conflict). Checks that each delivery was applied exactly once, by a receipt the
    destination issued for one of its arrivals; that arrivals >= applies; that no delivery was
    ever in flight twice at once (its arrivals' [t, t_end] intervals are disjoint); that every
    arrival of a delivery carried the same signed bytes (a de-duplicating destination can rely
    on the delivery id) and a distinct attempt number the gateway accounts for (a recorded
    attempt, or one its lease expired on). Returns figures for the caller to assert on.
    """
    from gateway.delivery import receipts

    ok = [r for r in records if r["status"] == 200]
    by_delivery: dict[str, list[dict]] = {}
    for r in ok:
        by_delivery.setdefault(r["delivery_id"], []).append(r)
    assert set(by_delivery) <= set(delivery_ids), "the destination received deliveries we never made"
    assert set(by_delivery) == set(delivery_ids), "a delivery never reached the destination"
    assert not [r for r in ok if r["overlap"]], "the destination saw one delivery in flight twice at once"
    for did, arrivals in by_delivery.items():
        arrivals.sort(key=lambda r: r["t"])
        for a, b in zip(arrivals, arrivals[1:], strict=False):
            assert a["t_end"] <= b["t"], f"{did} was in flight twice at once: {a} / {b}"
        assert len({a["digest"] for a in arrivals}) == 1, f"{did} was re-sent with other bytes"
        numbers = [a["attempt"] for a in arrivals]
        assert len(set(numbers)) == len(numbers), f"{did} sent twice under one attempt number: {numbers}"
    applies: dict[str, int] = {}
    lease_expired = resent_after_expiry = 0
    with db.read() as conn:
        for did in delivery_ids:
            row = outbox.get_delivery(conn, did)
            assert row.state == "acknowledged", f"{did} ended {row.state}"
            issued = {a["receipt_id"] for a in by_delivery[did]}
            settling = [r for r in receipts.receipts_of(conn, did)
                        if r.verified and not r.duplicate and r.error is None and not getattr(r, "conflict", False)]
            applies[did] = len(settling)
            assert all(r.receipt_id in issued for r in settling), f"{did} settled by a receipt it was never sent"
            attempts = outbox.attempts_of(conn, did)
            expired = {a.attempt for a in attempts if a.outcome == "lease_expired"}
            lease_expired += len(expired)
            accounted = {a.attempt for a in attempts if a.outcome != "requeued"}
            sent = {a["attempt"] for a in by_delivery[did]}
            assert sent <= accounted, f"{did}: attempts {sorted(sent - accounted)} arrived but are unaccounted for"
            resent_after_expiry += len(sent & expired)
    twice = {k: v for k, v in applies.items() if v != 1}
    assert not twice, f"not applied exactly once by the gateway: {list(twice.items())[:5]}"
    arrivals = sum(len(v) for v in by_delivery.values())
    assert arrivals >= sum(applies.values())
    return {"deliveries": len(delivery_ids), "arrivals": arrivals, "applies": sum(applies.values()),
            "resent": sum(1 for v in by_delivery.values() if len(v) > 1), "lease_expired": lease_expired,
            "arrived_then_lease_expired": resent_after_expiry}
