"""Issue 12, rule 1 (`001` §三(四)1(4); 应急管理部令第11号): a removal is applied for only within
its window and never on or after expiry. Municipal: the 30 working days before expiry.
National: early removal may be requested once 12 months of the 3-year period have passed.
Both profiles, both databases, through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from policy_store_helpers import entries, post, step

from gateway.config import load_settings
from gateway.domain.policy.periods import add_working_days
from tests.factories import accident, make_uscc

UNIT = make_uscc(371)


@pytest.fixture(params=["municipal-2021", "national-2023"])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def _at(clock, day: dt.date) -> None:  # noqa: ANN001
    clock.set(dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC))  # 10:00 in China


def _published(client) -> dict:  # noqa: ANN001
    post(client, accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3))
    post(client, accident("A2", UNIT, "2025-05-01", grade="larger", deaths=4))
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    step(client, jp["id"], "notify")
    step(client, jp["id"], "confirm", argument="waived")
    r = step(client, jp["id"], "publish")
    assert r.status_code == 200, r.text
    return r.json()["entry"]


def _opens(entry: dict, services, profile: str) -> dt.date:  # noqa: ANN001
    starts, expires = (dt.date.fromisoformat(entry[k]) for k in ("starts_on", "expires_on"))
    if profile == "national-2023":  # 列入满12个月后可申请提前移出
        return starts.replace(year=starts.year + 1)
    return add_working_days(services.calendar, expires, -30).date


def test_rule_1_a_removal_is_refused_before_its_window_opens_and_accepted_when_it_does(client, clock, services,
                                                                                       settings):
    entry = _published(client)
    opens = _opens(entry, services, settings.policy_profile)
    given = entry["early_removal_from"] if settings.policy_profile == "national-2023" else entry["removal_window_opens_on"]
    assert given == opens.isoformat()
    _at(clock, opens - dt.timedelta(days=1))
    r = step(client, entry["id"], "request-removal")
    assert r.status_code == 409, r.text
    assert r.json()["type"] == "urn:gateway:problem:removal-window-not-open"
    assert r.json()["opens_on"] == opens.isoformat()
    _at(clock, opens)
    r = step(client, entry["id"], "request-removal")
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["state"] == "removal_requested"


def test_rule_1_never_on_or_after_expiry_in_either_profile(client, clock, settings):
    entry = _published(client)
    expires = dt.date.fromisoformat(entry["expires_on"])
    for day in (expires, expires + dt.timedelta(days=40)):
        _at(clock, day)
        r = step(client, entry["id"], "request-removal")
        assert r.status_code == 409, r.text
        assert r.json()["type"] == "urn:gateway:problem:removal-window-closed"
