"""Schemathesis against `schemas/openapi.yaml` and the running gateway (the third `.ci/run` step).

    .venv/bin/python tests/ops/api_fuzz.py [--max-examples 25] [-- extra schemathesis options]

Starts the gateway (built as `gateway serve` builds it)
with uvicorn on a free loopback port over a fresh SQLite database, registers the example
agencies, issues an operator key for the run, then runs every schemathesis check with a
bounded number of examples per operation, authenticated with that key. The operations
addressed by id get real ids (`seed_ids`: a record, a subject, a signed bulletin and its
delivery, a list entry, an eligibility report) through a generated `schemathesis.toml`, so
they answer 200, not only 404; `/v1/records:import` is covered too. The exit status is
schemathesis's: non-zero when any check failed (a 5xx, a response that does not conform to
the schema, a status code the spec does not declare, …).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("schemathesis-baseline.json")
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_services(workdir: Path):  # noqa: ANN201
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import repository as intake_repo
    from gateway.store import migrate

    settings = load_settings(database_url=f"sqlite:///{workdir / 'gateway.db'}", keys_dir=workdir / "keys",
                             request_timeout_seconds=30)
    services = build(settings)
    migrate.upgrade(services.db)
    with services.db.write() as conn:
        for code, name, region, level in (("MY-AJJ", "绵阳市应急管理局", "510700", "city"),
                                          ("FC-AJJ", "绵阳市涪城区应急管理局", "510703", "district")):
            intake_repo.upsert_agency(conn, code=code, name=name, region=region, level=level, uscc=None,
                                      now=services.clock.now())
    return services


def seed_ids(services) -> dict[str, str]:  # noqa: ANN001
    """Real rows for the operations addressed by id (a record, its subject, a signed bulletin and
    its delivery, a proposed list entry), so schemathesis reaches their answers, not only 404."""
    from sqlalchemy import select

    from gateway.delivery.outbox import list_deliveries
    from gateway.store.tables import subjects
    from tests.factories import make_uscc, penalty
    from tests.ops import seed

    code = make_uscc(4711, "510700")
    today = services.clock.now().date().isoformat()
    result = services.intake.submit("MY-AJJ", [penalty("fuzz-1", code, decided=today)])
    record_id = result.outcomes[0].record_id
    services.consumer.drain()
    services.publication.push_all(force=True)
    with services.db.read() as conn:
        delivery = list_deliveries(conn, limit=1)[0]
        subject_id = conn.execute(select(subjects.c.id).where(subjects.c.key == code)).scalar_one()
    entry = seed.proposed_entry(services.db, subject_id, services.clock.now())
    # a dead delivery (of a bulletin of its own): what GET shows and requeue acts on
    dead = seed.delivery(services.db, services.clock.now(), state="dead", error="HTTP 503", attempts=8)
    return {"record_id": record_id, "uscc": code, "delivery_id": dead,
            "bulletin_id": delivery.bulletin_id, "entry_id": entry, "watchlist_id": _watchlist(services, code)}


def _watchlist(services, code: str) -> str:  # noqa: ANN001
    """A bank's poll watchlist of the seeded subject (operators read and change any)."""
    from gateway.access import keys
    from gateway.access.testing import partner_uscc

    bank = partner_uscc("finance", 90)
    with services.db.write() as conn:
        partner_id = keys.add_partner(conn, uscc_code=bank, name="fuzz bank", sector="finance",
                                      now=services.clock.now())
    who = keys.Principal(key_id="fuzz-bank", kind="api_key", partner_id=partner_id, organisation=bank,
                         name="fuzz bank", sector="finance", agency_code=None, scopes=keys.SECTOR_SCOPES["finance"])
    return services.watchlists.create(who, name="fuzz", mode="poll", destination=None, subjects=[(code, None)])["id"]


def eligibility_report(port: int, token: str, code: str) -> str:
    import httpx

    r = httpx.post(f"http://127.0.0.1:{port}/v1/eligibility:check", headers={"Authorization": f"Bearer {token}"},
                   json={"purpose": "land_auction", "bidders": [code]}, timeout=30)
    r.raise_for_status()
    return r.json()["report_id"]


def config_file(workdir: Path, ids: dict[str, str]) -> Path:
    """schemathesis.toml: the seeded ids as the path parameters of every operation that has them."""
    path = workdir / "schemathesis.toml"
    lines = ["[parameters]", *(f'"path.{name}" = "{value}"' for name, value in sorted(ids.items()))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reached(port: int) -> str:
    """Which operations answered at least one 2xx during the run (from the gateway's /metrics)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families


    seen: dict[str, set[str]] = {}
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gateway_http_request_duration_seconds_count" and sample.value:
                seen.setdefault(f"{sample.labels['method']} {sample.labels['route']}", set()).add(sample.labels["status"])
    spec = load_spec_paths()
    never = sorted(op for op in spec if "2xx" not in seen.get(op, set()))
    return (f"api_fuzz: {len(spec) - len(never)} of {len(spec)} operations answered 2xx"
            + (f"; never 2xx: {', '.join(never)}" if never else ""))


def load_spec_paths() -> list[str]:
    import yaml

    spec = yaml.safe_load((ROOT / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))
    return [f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "delete", "patch")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25, help="examples per operation (default 25)")
    parser.add_argument("--workers", default="1", help="schemathesis workers (default 1: SQLite has one writer)")
    parser.add_argument("--baseline", default=str(BASELINE),
                        help="accepted known failures (reported to their owners); '' for none")
    parser.add_argument("--update-baseline", action="store_true", help="record this run's failures as accepted")
    parser.add_argument("extra", nargs="*", help="more schemathesis options (after --)")
    args = parser.parse_args(argv)

    import uvicorn

    from gateway.access.testing import issue
    from gateway.app import create_app

    schemathesis = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(schemathesis).exists():
        print("schemathesis is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="gw-fuzz-"))
    services = build_services(workdir)
    token = issue(services, "operator", days=1).token
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            print("the gateway did not start", file=sys.stderr)
            return 2
        time.sleep(0.05)
    ids = seed_ids(services)
    ids["report_id"] = eligibility_report(port, token, ids["uscc"])
    print("seeded ids: " + ", ".join(f"{k}={v}" for k, v in sorted(ids.items())), flush=True)
    command = [
        schemathesis, "--config-file", str(config_file(workdir, ids)), "run", str(ROOT / "schemas" / "openapi.yaml"),
        "--url", f"http://127.0.0.1:{port}",
        "--checks", "all",
        "--max-examples", str(args.max_examples),
        "--workers", args.workers,
        "--header", f"Authorization: Bearer {token}",
        "--seed", os.environ.get("GATEWAY_FUZZ_SEED", "20250602"),
        # deterministic generation and no stateful phase: the same run finds the same failures,
        # so the baseline of known failures is stable and anything new stands out
        "--generation-deterministic",
        "--phases", "examples,coverage,fuzzing",
        "--report-dir", str(ROOT / "tests" / "artifacts" / "schemathesis"),
        "--report", "junit",
        "--request-timeout", "30",
        *(["--baseline", args.baseline] if args.baseline else []),
        *(["--baseline-update"] if args.update_baseline else []),
        *args.extra,
    ]
    print("running:", " ".join(c if "Bearer" not in c else "Authorization: Bearer gw_…" for c in command), flush=True)
    try:
        status = subprocess.call(command, cwd=ROOT)
        print(reached(port), flush=True)
        return status
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
