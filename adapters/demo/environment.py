"""The demonstration environment: the gateway's three destination kinds simulated on loopback,
the records in `examples/`, and bulletins going out with receipts coming back.

`gateway demo` (`run_demo`) does it all in one process against a fresh database under
`var/demo/` and prints a summary:

1. start the simulators on free loopback ports — 信用中国 (synchronous receipts), 信用中国(四川)
   (asynchronous: 202, then the receipt query), the enterprise credit publicity system
   (SOAP), and three partner receivers: a land bureau (HMAC webhook, some injected 5xx to
   show retries), a bank (webhook signed with the gateway key) and an insurer (rejecting
   some items, to show per-item outcomes);
2. write `var/demo/destinations.yaml` pointing at them, each pinning its simulator's
   receipt certificate;
3. register the example agencies and import the example files (CSV in GB18030, XLSX, XML,
   an intake JSON batch), printing the rejections of the deliberately bad rows;
4. let the change-feed consumer decide every subject (its standing and publication items),
   walk the list procedure as the operators would, batch (`publication.push_cycle` per
   destination), run the delivery worker until the queue has drained and every receipt is
   in (asynchronous ones fetched with `query_receipt`);
5. print bulletins, deliveries, attempts, receipts and rejected items per destination.

Under `gateway run --demo`, `prepare_run(settings)` does steps 1-2 before the gateway starts
and gives it a feeder for the rest, running beside the API, the consumer, the worker and the
scheduler (each demo destination is pushed every few seconds).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adapters.demo.watchlist import LAYOUT_ENTRY as WATCH_LAYOUT
from gateway.paths import ROOT

log = logging.getLogger("gateway.demo")
EXAMPLES = ROOT / "examples"
Out = Callable[[str], None]

# name → (simulator kind, simulator options, destination body)
LAYOUT: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "credit-china": ("credit-china", {"name": "creditchina.national"}, {
        "options": {"platform": "信用中国", "app_key": "gateway-national", "app_secret": "demo-national-secret"},
        "subscription": {"sector": "platform"}}),
    "credit-china-sichuan": ("credit-china", {"name": "creditchina.sichuan", "async_receipts": True, "receipt_delay": 0.3}, {
        "options": {"platform": "信用中国(四川)", "app_key": "gateway-sichuan", "app_secret": "demo-sichuan-secret"},
        "subscription": {"sector": "platform", "regions": ["510000"]}, "receipt_timeout_seconds": 2}),
    "enterprise-publicity": ("enterprise-publicity", {"name": "gsxt.sichuan"}, {
        "options": {"platform": "国家企业信用信息公示系统(四川)", "timeout": 10},
        "subscription": {"sector": "platform", "item_kinds": ["licence", "penalty", "list"]}}),
    "mianyang-land": ("bureau", {"name": "mianyang.land", "sectors": ("land",), "hmac_secret": "demo-land",
                                 "faults": {"error_rate": 0.5}}, {
        "options": {"receiver": "绵阳市自然资源和规划局", "secret": "demo-land"},
        "subscription": {"sector": "land", "item_kinds": ["list"]}}),
    "mianyang-bank": ("bureau", {"name": "mianyang.bank", "sectors": ("finance",)}, {
        "options": {"receiver": "绵阳市商业银行", "signature": "key"},
        "subscription": {"sector": "finance", "item_kinds": ["list", "penalty"]}}),
    "sichuan-insurer": ("bureau", {"name": "sichuan.insurer", "sectors": ("insurance",),
                                   "hmac_secret": "demo-insurer", "faults": {"reject_items": "0.4"}}, {
        "options": {"receiver": "某财产保险股份有限公司四川分公司", "secret": "demo-insurer"},
        "subscription": {"sector": "insurance", "item_kinds": ["list"]}}),
}
LAYOUT["mianyang-bank-watch"] = WATCH_LAYOUT  # the bank's watchlist notices (adapters.demo.watchlist)
ADAPTERS = {"credit-china": "adapters.credit_china:factory", "enterprise-publicity": "adapters.enterprise_publicity:factory",
            "bureau": "adapters.bureaus:factory"}
COMMON = {"retry": {"strategy": "progressive", "base": 0.2, "cap": 1.0, "max_attempts": 10, "max_age": 600},
          "breaker": {"failure_threshold": 20, "open_seconds": 1}, "batch": {"max_items": 5, "max_age_seconds": 1},
          "concurrency": 4, "lease_seconds": 30, "schedule": "5s"}


@dataclass
class DemoEnvironment:
    destinations_file: Path
    registry: Any
    simulators: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name → (Simulator, ServerThread)
    exchange: Any = None  # adapters.demo.exchange_db.Platform

    def stop(self) -> None:
        if self.exchange is not None:
            self.exchange.stop()
        for sim, server in self.simulators.values():
            server.stop()
            sim.receiver.store.close()


def start_environment(var_dir: Path, gateway_keys_dir: Path, *, fresh: bool = True) -> DemoEnvironment:
    """Start the simulators and write the destinations file that points at them."""
    from adapters._sim.faults import FaultState
    from adapters._sim.launch import SimulatorOptions, build
    from adapters._sim.receiver import gateway_trust
    from gateway.delivery.destinations import load_destinations

    sim_dir = var_dir / "sim"
    if fresh and sim_dir.exists():
        shutil.rmtree(sim_dir)
    trust = gateway_trust("demo", gateway_keys_dir=gateway_keys_dir)
    env = DemoEnvironment(var_dir / "destinations.yaml", None)
    destinations: dict[str, Any] = {}
    for name, (kind, sim_opts, body) in LAYOUT.items():
        opts = dict(sim_opts)
        faults = FaultState(seed=7)
        if opts.get("faults"):
            faults.update(opts.pop("faults"))
        secrets = {body["options"]["app_key"]: body["options"]["app_secret"]} if kind == "credit-china" else None
        sim = build(SimulatorOptions(kind, data_dir=sim_dir / name, trust=trust, keys_dir=var_dir / "sim-keys" / name,
                                     faults=faults, app_secrets=secrets, **opts))
        server = sim.start()
        env.simulators[name] = (sim, server)
        options = {"url": sim.endpoint(server.url), **body["options"]}
        if options.get("signature") == "key":
            options["keys_dir"] = str(gateway_keys_dir)
        destinations[name] = {"adapter": ADAPTERS[kind], **COMMON, **{k: v for k, v in body.items() if k != "options"},
                              "options": options, "trust": str(sim.certificate)}
    env.destinations_file.parent.mkdir(parents=True, exist_ok=True)
    from adapters.demo import exchange_db
    env.exchange = exchange_db.Platform(exchange_db.add_destination(destinations, var_dir, gateway_keys_dir, COMMON))
    header = "# Written by `gateway demo`: destinations pointing at the loopback simulators.\n"
    env.destinations_file.write_text(header + yaml.safe_dump({"destinations": destinations}, allow_unicode=True,
                                                             sort_keys=False), encoding="utf-8")
    env.registry = load_destinations(env.destinations_file, keys_dir=gateway_keys_dir)
    return env


# --- intake ----------------------------------------------------------------------------------


def register_agencies(services: Any, examples: Path = EXAMPLES) -> list[str]:
    from gateway.intake import repository as intake_repo

    data = yaml.safe_load((examples / "agencies.yaml").read_text(encoding="utf-8"))
    with services.db.write() as conn:
        for a in data["agencies"]:
            intake_repo.upsert_agency(conn, code=a["code"], name=a["name"], region=str(a["region"]), level=a["level"],
                                      uscc=a.get("uscc"), now=services.clock.now())
    return [a["code"] for a in data["agencies"]]


def import_examples(services: Any, out: Out, examples: Path = EXAMPLES, *, shift_days: int = 0,
                    explained: list[str] | None = None) -> dict[str, int]:
    """Import every file listed in agencies.yaml; print counts and each rejection.

    `shift_days` moves every date of the examples (`adapters.demo.dates`); `explained` gets one
    line per rejected row: why the row is bad on purpose (agencies.yaml's `rejections`)."""
    from adapters.demo.dates import shift_file, shift_value
    from gateway.intake.importing import import_file

    data = yaml.safe_load((examples / "agencies.yaml").read_text(encoding="utf-8"))
    totals = {"accepted": 0, "duplicate": 0, "superseded": 0, "rejected": 0}
    for entry in data["imports"]:
        path = examples / entry["file"]
        if path.suffix == ".json":
            batch = shift_value(json.loads(path.read_text(encoding="utf-8")), shift_days)
            result = services.intake.submit(batch.get("agency") or entry["agency"], batch["records"])
            counts, fmt = result.counts(), "json"
            rows = [(o.index + 1, p["field"], p["reason"], p["message"]) for o in result.outcomes for p in o.problems]
        else:
            result = import_file(services.intake, entry["agency"], shift_file(path.name, path.read_bytes(), shift_days),
                                 filename=path.name)
            counts, fmt = result.counts(), result.format + (f"/{result.encoding}" if result.encoding else "")
            rows = [(line.row, line.column, line.reason, line.message) for line in result.report_lines("en")]
        for k in totals:
            totals[k] += counts.get(k, 0)
        rejected = counts["rejected"] + counts.get("file_problems", 0)
        totals["rejected"] += counts.get("file_problems", 0)
        out(f"  {path.name:<26} {fmt:<13} by {entry['agency']:<7} accepted {counts['accepted']:>2}, "
            f"duplicate {counts['duplicate']}, rejected {rejected}")
        why = {int(k): v for k, v in (entry.get("rejections") or {}).items()}
        for row, fld, reason, message in rows:
            out(f"      {'row' if fmt != 'json' else 'record'} {row}: {fld}: {reason}: {message}")
        if explained is not None:
            for row in dict.fromkeys(r[0] for r in rows):
                label = f"{path.name} {'row' if fmt != 'json' else 'record'} {row}"
                explained.append(f"{label}: {why.get(row, 'not a deliberate rejection: see the lines above')}")
    return totals


def wait_for_feed(services: Any, timeout: float = 60.0) -> bool:
    """Wait until the consumer (a thread of `gateway run`) has decided every change."""
    from gateway.changes import feed

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.db.read() as conn:
            st = feed.stats(conn, services.clock.now())
        if st.pending == 0:
            return True
        time.sleep(0.2)
    return False


# --- publication and delivery ---------------------------------------------------------------


def delivery_counts(services: Any) -> dict[str, int]:
    from gateway.delivery.outbox import count_by_state

    with services.db.read() as conn:
        return count_by_state(conn)


def pending_items(services: Any) -> int:
    """Publication items still waiting for their bulletin (the scheduler's push cycles make them)."""
    from gateway.publication.repository import PENDING, item_counts

    with services.db.read() as conn:
        return sum(c["count"] for c in item_counts(conn) if c["state"] == PENDING)


async def fetch_async_receipts(services: Any) -> int:
    """Ask each destination for the receipts still outstanding (the query channel)."""
    from gateway.delivery.destinations import load_adapter_factory
    from gateway.delivery.outbox import State, list_deliveries
    from gateway.delivery.receipts import accept_receipt
    from gateway.signing.receipt import ReceiptInvalid

    registry = services.destinations
    with services.db.read() as conn:
        waiting = list_deliveries(conn, state=State.AWAITING_RECEIPT, limit=10_000)
    settled, adapters = 0, {}
    try:
        for row in waiting:
            if row.destination not in adapters:
                config = registry.get(row.destination)
                adapters[row.destination] = load_adapter_factory(config.adapter)(config)
            data = await adapters[row.destination].query_receipt(row.delivery_id, row.bulletin_id)
            if not data:
                continue
            try:
                stored = await asyncio.to_thread(accept_receipt, services.db, registry, data, services.clock.now(),
                                                 channel="query")
                settled += stored.state is not None
            except ReceiptInvalid as exc:
                log.warning("receipt for %s did not verify: %s", row.delivery_id, exc)
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
    return settled


async def deliver_until_drained(services: Any, *, timeout: float = 90.0, out: Out | None = None) -> dict[str, int]:
    """Run a delivery worker until nothing is pending, sending or waiting to retry, and every
    asynchronous receipt has been fetched (or `timeout` passed); returns the worker's counters."""
    from gateway.delivery.worker import run_worker

    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(services.db, services.clock, services.destinations, stop, poll_interval=0.05))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.25)
            counts = await asyncio.to_thread(delivery_counts, services)
            if counts.get("pending", 0) + counts.get("sending", 0) + counts.get("retry_wait", 0):
                continue
            if counts.get("awaiting_receipt", 0):
                await asyncio.sleep(0.3)
                if await fetch_async_receipts(services) and out:
                    out("  asynchronous receipts fetched with query_receipt")
                continue
            break
    finally:
        stop.set()
        worker = await task
    return dict(worker.counters)


# --- summary ----------------------------------------------------------------------------------


def summary_rows(services: Any) -> list[dict[str, Any]]:
    from gateway.delivery.reports import destination_summary

    registry = services.destinations
    with services.db.read() as conn:
        rows = [destination_summary(conn, name) for name in registry.names()]
    for row in rows:
        row["adapter"] = registry.get(row["destination"]).adapter.split(":")[0].split(".")[-1]
    return rows


def print_summary(services: Any, out: Out) -> list[dict[str, Any]]:
    rows = summary_rows(services)
    out(f"  {'destination':<21} {'adapter':<21} {'bulletins':>9} {'items':>5} {'attempts':>8}  "
        f"{'receipts (channel)':<18} {'accepted':>8} {'rejected':>8}  states")
    for row in rows:
        receipts = ", ".join(f"{n} {c}" for c, n in sorted(row["receipts"].items())) or "-"
        states = ", ".join(f"{n} {s}" for s, n in sorted(row["states"].items())) or "-"
        out(f"  {row['destination']:<21} {row['adapter']:<21} {row['bulletins']:>9} {row['items']:>5} "
            f"{row['attempts']:>8}  {receipts:<18} {row['accepted']:>8} {row['rejected']:>8}  {states}")
    total = {k: sum(r[k] for r in rows) for k in ("bulletins", "items", "attempts", "accepted", "rejected")}
    receipts = sum(sum(r["receipts"].values()) for r in rows)
    out(f"  {'total':<43} {total['bulletins']:>9} {total['items']:>5} {total['attempts']:>8}  "
        f"{receipts:<18} {total['accepted']:>8} {total['rejected']:>8}")
    return rows


def print_rejected(services: Any, out: Out, limit: int = 8) -> None:
    from gateway.delivery.receipt_store import rejected_items

    with services.db.read() as conn:
        rows = rejected_items(conn, limit=limit)
    for row in rows:
        out(f"  {row['destination']}: {row['kind']} {row['subject']} ({row['agency'] or '-'}): "
            f"{row['code']} {row['message'] or ''}")


# --- the operator's part: the list procedure (docs/policy.md §6) ----------------------------------


def operate_lists(services: Any, out: Out = print, actor: str = "demo-operator") -> dict[str, int]:
    """Rehearse what the credit centre's operators do: walk each proposed punishment/blacklist
    entry through notice → confirmation → publication, and apply for, review and publish the
    incentive list for every unit that meets all six conditions. Each step goes into the
    change feed, and the consumer queues what receivers get."""
    from gateway.errors import GatewayError
    from gateway.intake.repository import organisation_subject_ids

    policy = services.policy
    done = {"published_punishment": 0, "published_incentive": 0}
    proposed, _ = policy.entries(state="proposed", limit=1000)
    for entry in proposed:
        for action in ("notify", "confirm", "publish"):
            policy.transition(entry["id"], action, actor, note="demo rehearsal",
                              argument="waived" if action == "confirm" else None)
        done["published_punishment"] += 1
        out(f"  {entry['list']} entry for {entry['subject']} ({', '.join(entry['cases'])}): notified, argument waived, confirmed, published")
    with services.db.read() as conn:
        subject_ids = organisation_subject_ids(conn)
    for subject_id in subject_ids:
        try:
            entry = policy.apply_incentive(subject_id, actor, note="demo rehearsal")
        except GatewayError:  # not eligible, or an entry already open
            continue
        policy.transition(entry["id"], "review", actor, note="demo rehearsal")
        review = services.profile.procedure.incentive_review
        if review is None:
            policy.transition(entry["id"], "publish", actor, note="demo rehearsal")
        else:  # level by level, each level with its own credential (rule 6)
            for level in review.levels:
                policy.transition(entry["id"], "approve", f"{actor}:{level}", note="demo rehearsal", level=level)
        done["published_incentive"] += 1
        out(f"  incentive entry for {entry['subject']}: applied, reviewed, approved level by level, published")
    return done


