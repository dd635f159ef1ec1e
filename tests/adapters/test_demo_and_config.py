"""End to end: `gateway demo` delivers signed bulletins to all three destination kinds and
records their receipts; the shipped example configuration builds every adapter; the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.delivery.destinations import load_adapter_factory, parse_destinations
from gateway.delivery.port import Destination
from gateway.paths import ROOT


def test_the_demo_delivers_to_every_destination_kind_with_receipts(tmp_path, gateway_key):
    from adapters.demo import run_demo

    lines: list[str] = []
    keys_dir = Path(gateway_key.source).parent
    assert run_demo(var_dir=tmp_path / "demo", keys_dir=keys_dir, out=lines.append, timeout=60) == 0
    text = "\n".join(lines)
    all_lines = text.splitlines()
    start = all_lines.index("summary per destination:") + 2
    block = all_lines[start:all_lines.index("", start)]
    summary = {line.split()[0]: line for line in block}
    for name, adapter in (("credit-china", "credit_china"), ("credit-china-sichuan", "credit_china"),
                          ("enterprise-publicity", "enterprise_publicity"), ("mianyang-land", "bureaus"),
                          ("mianyang-bank", "bureaus"), ("sichuan-insurer", "bureaus"),
                          ("exchange-db", "exchange_db")):
        assert adapter in summary[name]
        assert "acknowledged" in summary[name] or "rejected" in summary[name], summary[name]
        assert "pending" not in summary[name] and "dead" not in summary[name]
    assert "sync" in summary["credit-china"] and "query" in summary["credit-china-sichuan"]
    assert "invalid_checksum" in text and "bad_date" in text and "not_in_code_list" in text
    assert "total: 17 accepted, 0 duplicate, 5 rejected" in text
    written = yaml.safe_load((tmp_path / "demo" / "destinations.yaml").read_text(encoding="utf-8"))
    assert {d["adapter"] for d in written["destinations"].values()} == {
        "adapters.credit_china:factory", "adapters.enterprise_publicity:factory", "adapters.bureaus:factory",
        "adapters.exchange_db:factory"}
    exchange = next(line for line in all_lines if line.startswith("exchange-db: "))
    assert "rows written" in exchange and " 0 rows" not in exchange and "accepted" in exchange, exchange


def test_the_demo_lists_the_mine_for_joint_punishment_and_the_chemical_company_for_incentive(tmp_path, gateway_key):
    """The example subjects cross the thresholds they are meant to (docs/policy.md §4, §5)."""
    import datetime as dt

    from examples.build_examples import CHEM, MINE
    from gateway.domain.policy import decide
    from gateway.domain.records import Record, RecordKind
    from gateway.intake.files import parse_file
    from gateway.policy.profiles import load_profile

    parsed = parse_file((ROOT / "examples" / "accidents_fucheng.xml").read_bytes(), "accidents.xml", None)
    mine = [Record(f"r{i}", RecordKind(r.record["kind"]), MINE, "FC-YJJ",
                   dt.date.fromisoformat(r.record["data"]["occurred_on"]), r.record["data"], 1, "current",
                   dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
            for i, r in enumerate(parsed.records) if r.record["subject"]["uscc"] == MINE and r.record["kind"] == "accident"]
    assert len(mine) == 3
    from gateway.domain.calendar import WorkingCalendar

    decisions = decide(mine, dt.date(2026, 11, 22), load_profile("municipal-2021"), WorkingCalendar())
    assert "joint_punishment" in {c.list_kind for c in decisions.lists if c.candidate}
    assert CHEM.startswith("91510703")


@pytest.fixture
def example_configs(gateway_key, monkeypatch):
    data = yaml.safe_load((ROOT / "config" / "destinations.example.yaml").read_text(encoding="utf-8"))
    keys_dir = str(Path(gateway_key.source).parent)
    for body in data["destinations"].values():
        for key in [k for k in body["options"] if k.endswith("_env")]:
            monkeypatch.setenv(body["options"][key], "secret-from-env")
        if "keys_dir" in body["options"]:
            body["options"]["keys_dir"] = keys_dir
    return parse_destinations({"destinations": data["destinations"]}, "destinations.example.yaml")


def test_the_example_configuration_builds_every_adapter(example_configs):
    kinds = set()
    for config in example_configs.values():
        adapter = load_adapter_factory(config.adapter)(config)
        assert isinstance(adapter, Destination)
        kinds.add(config.adapter)
    assert kinds == {"adapters.credit_china:factory", "adapters.enterprise_publicity:factory",
                     "adapters.bureaus:factory"}
    sectors = {c.subscription.sector for c in example_configs.values()}
    assert {"land", "finance", "insurance", "securities", "approval", "trading", "electricity"} <= sectors


def test_the_cli_offers_simulate_and_demo(capsys):
    from gateway.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["simulate", "bureau", "--port", "0", "--sector", "land", "--hmac-secret", "s",
                              "--error-rate", "0.5", "--rate-limit", "10", "--down-between", "01:00-02:00",
                              "--reject-items", "it-1,it-2", "--async-receipts"])
    assert args.kind == "bureau" and args.error_rate == 0.5 and args.sector == ["land"]
    assert parser.parse_args(["demo"]).func.__module__ == "adapters.demo.cli"  # through the entry point
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "credit-china", "--error-rate", "2"])


def test_gateway_run_demo_feeds_a_running_gateway(tmp_path, gateway_key):
    """The `gateway run --demo` layout: the demo's destinations, then the consumer, the worker,
    the scheduler (pushing every few seconds) and the demo's feeder beside them."""
    import time

    from adapters.demo import prepare_run
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.runtime import Background
    from gateway.store import migrate
    from gateway.store.delivery_tables import deliveries

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'gw.db'}", keys_dir=Path(gateway_key.source).parent)
    lines: list[str] = []
    demo = prepare_run(settings, var_dir=tmp_path / "var", out=lines.append)
    services = build(settings, destinations=demo.registry, keyring=demo.keyring)
    migrate.upgrade(services.db)
    background = Background(services, extras=[demo.feeder]).start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("summary per destination" in line for line in lines):
            time.sleep(0.5)
        with services.db.read() as conn:
            states = {row.state for row in conn.execute(deliveries.select())}
    finally:
        background.stop()
        demo.stop()
        services.close()
    assert states and states <= {"acknowledged", "partially_rejected", "rejected"}
    assert any("summary per destination" in line for line in lines)
