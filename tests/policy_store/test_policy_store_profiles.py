"""The deployment's profile decides the period: national-2023 lists for 3 years (docs/policy.md §10)."""

from __future__ import annotations

import pytest
from policy_store_helpers import entries, post, step

from gateway.config import load_settings
from tests.factories import accident, make_uscc

UNIT = make_uscc(701)
EXPECTED = {
    # one year; removal applied for in the 30 working days before expiry (docs/policy.md §4)
    "municipal-2021": {"expires_on": "2026-06-02", "removal_window_opens_on": "2026-04-17", "early_removal_from": None},
    # three years; early removal may be requested after 12 months (docs/policy.md §10)
    "national-2023": {"expires_on": "2028-06-02", "removal_window_opens_on": None, "early_removal_from": "2026-06-02"},
}


@pytest.fixture(params=sorted(EXPECTED))
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)


def test_the_same_records_get_the_profile_s_period(client, settings):
    # two 较大 responsibility accidents within 12 months list the unit under both profiles
    post(client, accident("A1", UNIT, "2024-12-01", grade="larger", deaths=3))
    post(client, accident("A2", UNIT, "2025-05-01", grade="larger", deaths=4))
    [jp] = entries(client, subject=UNIT, list="joint_punishment")
    assert jp["profile"] == settings.policy_profile
    for action in ("notify", "confirm", "publish"):
        r = step(client, jp["id"], action, **({"argument": "waived"} if action == "confirm" else {}))
        assert r.status_code == 200, r.text
    body = r.json()["entry"]
    assert body["starts_on"] == "2025-06-02"
    assert {k: body[k] for k in EXPECTED[settings.policy_profile]} == EXPECTED[settings.policy_profile]
    blacklist = entries(client, subject=UNIT, list="blacklist")
    assert len(blacklist) == (1 if settings.policy_profile == "municipal-2021" else 0)
