"""Rule 11 runs in every profile: the calendar is the same, the deadlines are the profile's."""

from __future__ import annotations

import pytest

from gateway.config import load_settings


@pytest.fixture(params=["municipal-2021", "national-2023"])
def settings(request, db, tmp_path):
    return load_settings(database_url=db.url, keys_dir=tmp_path / "keys", policy_profile=request.param)
