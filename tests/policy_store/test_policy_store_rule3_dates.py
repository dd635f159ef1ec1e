"""Issue 12, rule 3: each step records the day it really happened, bounded (never in the
future, never before the step it follows); deadlines and periods count from it; the CLI
takes `--on DATE`, `gateway policy recompute --date D` decides as of D, and a rehearsal
deployment runs on a chosen day (GATEWAY_CLOCK_FIXED). Both profiles, both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from policy_store_helpers import entries, post, step

from gateway.cli import main
from gateway.config import ConfigError, load_settings
from tests.factories import accident, make_uscc

UNIT = make_uscc(331)
PROFILES = ("municipal-2021", "national-2023")


@pytest.fixture(params=PROFILES)
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(2, 0), tzinfo=dt.UTC)  # 10:00 in China


def _proposed(client) -> dict:  # noqa: ANN001
    # two 较大 responsibility accidents within 12 months: a listing under both profiles
    post(client, accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3))
    post(client, accident("A2", UNIT, "2025-05-01", grade="larger", deaths=4))
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    return jp


def test_rule_3_each_step_records_the_day_it_happened_and_deadlines_count_from_it(client, clock):
    entry = _proposed(client)  # proposed on 2025-06-02
    clock.set(_at("2025-06-20"))  # the notice was served on the 9th, recorded on the 20th
    r = step(client, entry["id"], "notify", happened_on="2025-06-09")
    assert r.status_code == 200, r.text
    # 5 working days from Monday 9 June 2025: 10, 11, 12, 13, 16
    assert r.json()["entry"]["argument_deadline"] == "2025-06-16"
    r = step(client, entry["id"], "confirm", happened_on="2025-06-16")  # the last day to argue
    assert r.status_code == 409 and r.json()["type"] == "urn:gateway:problem:argument-period-open"
    assert step(client, entry["id"], "confirm", happened_on="2025-06-17").status_code == 200
    published = step(client, entry["id"], "publish", happened_on="2025-06-18").json()["entry"]
    assert published["starts_on"] == "2025-06-18"
    events = client.get(f"/v1/list-entries/{entry['id']}").json()["events"]
    assert [(e["action"], e["happened_on"]) for e in events] == [
        ("propose", "2025-06-02"), ("notify", "2025-06-09"), ("confirm", "2025-06-17"), ("publish", "2025-06-18")]
    assert all(e["at"].startswith("2025-06-20") for e in events[1:])  # recorded on the 20th


def test_rule_3_the_removal_application_counts_from_the_day_it_was_filed(client, clock):
    entry = _proposed(client)
    step(client, entry["id"], "notify")
    step(client, entry["id"], "confirm", argument="waived")
    published = step(client, entry["id"], "publish").json()["entry"]
    expires = dt.date.fromisoformat(published["expires_on"])
    opens = min(dt.date.fromisoformat(d) for d in (published["removal_window_opens_on"],
                                                     published["early_removal_from"]) if d)
    clock.set(_at((expires + dt.timedelta(days=2)).isoformat()))  # recorded after expiry ...
    late = step(client, entry["id"], "request-removal")
    assert late.status_code == 409 and late.json()["type"] == "urn:gateway:problem:removal-window-closed"
    early = step(client, entry["id"], "request-removal", happened_on=(opens - dt.timedelta(days=1)).isoformat())
    assert early.status_code == 409 and early.json()["type"] == "urn:gateway:problem:removal-window-not-open"
    filed = (expires - dt.timedelta(days=1)).isoformat()  # ... but filed the day before it
    r = step(client, entry["id"], "request-removal", happened_on=filed)
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "removal_requested"


def test_rule_3_a_day_in_the_future_or_before_the_step_it_follows_is_refused(client, clock):
    entry = _proposed(client)  # proposed on 2025-06-02, today
    r = step(client, entry["id"], "notify", happened_on="2025-06-03")
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:gateway:problem:happened-on-out-of-bounds"
    assert r.json()["latest"] == "2025-06-02"
    r = step(client, entry["id"], "notify", happened_on="2025-06-01")
    assert r.status_code == 422 and r.json()["earliest"] == "2025-06-02"
    r = step(client, entry["id"], "notify", happened_on="2 June")
    assert r.status_code == 400, r.text
    clock.set(_at("2025-06-10"))
    assert step(client, entry["id"], "notify", happened_on="2025-06-05").status_code == 200
    r = step(client, entry["id"], "confirm", argument="waived", happened_on="2025-06-04")
    assert r.status_code == 422 and r.json()["earliest"] == "2025-06-05"
    assert client.get(f"/v1/list-entries/{entry['id']}").json()["state"] == "notified"


def test_rule_3_cli_on_date_recompute_date_and_the_rehearsal_clock(client, db, settings, capsys, monkeypatch):
    entry = _proposed(client)  # proposed on 2025-06-02 (the tests' clock)
    monkeypatch.setenv("GATEWAY_CLOCK_FIXED", "2025-06-20T10:00+08:00")  # the CLI runs a rehearsal on the 20th
    monkeypatch.setenv("GATEWAY_POLICY_PROFILE", settings.policy_profile)
    url = ["--database-url", db.url]
    capsys.readouterr()
    assert main(["list-entries", "transition", entry["id"], "notify", "--on", "2025-06-21", *url]) == 1
    assert "in the future (today is 2025-06-20" in capsys.readouterr().err
    assert main(["list-entries", "transition", entry["id"], "notify", "--on", "2025-06-01", *url]) == 1
    assert "before the step it follows (2025-06-02)" in capsys.readouterr().err
    assert main(["list-entries", "transition", entry["id"], "notify", "--on", "2025-06-09", *url]) == 0
    shown = json.loads(capsys.readouterr().out)["entry"]
    assert shown["argument_deadline"] == "2025-06-16"
    assert main(["policy", "recompute", "--date", "2025-06-21", UNIT, *url]) == 1
    assert "cannot decide as of 2025-06-21" in capsys.readouterr().err
    assert main(["policy", "recompute", "--date", "2025-06-10", UNIT, *url]) == 0
    assert client.get(f"/v1/subjects/{UNIT}/decisions").json()["as_of"] == "2025-06-10"
    assert main(["policy", "recompute", "--all", "--date", "2025-06-10", *url]) == 2


def test_rule_3_the_rehearsal_clock_comes_from_settings(db, tmp_path):
    from gateway.bootstrap import build
    from gateway.clock import SystemClock, china_today, clock_from_settings

    assert isinstance(clock_from_settings(load_settings(database_url=db.url)), SystemClock)
    rehearsal = load_settings(database_url=db.url, keys_dir=tmp_path / "keys", clock_fixed="2026-05-01T09:00+08:00")
    services = build(rehearsal, db=db)
    try:
        assert china_today(services.clock) == dt.date(2026, 5, 1)
        assert services.policy.today() == dt.date(2026, 5, 1)
        first = services.clock.now()
        assert abs(first - dt.datetime(2026, 5, 1, 1, 0, tzinfo=dt.UTC)) < dt.timedelta(minutes=1)
        assert services.clock.now() >= first  # time moves on from the chosen instant
    finally:
        services.close()
    with pytest.raises(ConfigError, match="GATEWAY_CLOCK_FIXED"):
        load_settings(database_url=db.url, clock_fixed="2026-05-01T09:00")
