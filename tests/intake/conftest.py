"""Intake fixtures: the importing agency registered with its own USCC (the 2016 template's rows
take their 处罚机关 code from it)."""

from __future__ import annotations

import pytest

from gateway.intake import repository as intake_repo

AGENCY_USCC = "11510700MB12345623"


@pytest.fixture
def agency_with_uscc(services, agencies):
    with services.db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=AGENCY_USCC, now=services.clock.now())
