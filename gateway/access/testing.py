"""Credentials for tests and local tools: a partner and key per sector, issued directly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.access import keys

# valid USCCs (GB 32100 check characters) for the test partners, one per sector
_SEQ = {"finance": 101, "insurance": 102, "land": 103, "securities": 104, "approval": 105, "trading": 106,
        "platform": 107, "agency": 108, "operator": 109}


def partner_uscc(sector: str, seq: int | None = None) -> str:
    from gateway.domain.identifiers import orgcode, uscc

    body8 = f"{(seq or _SEQ[sector]) + 70000000:08d}"
    org = body8 + orgcode.calc_check_digit(body8)
    first17 = "91" + "510700" + org
    return first17 + uscc.calc_check_digit(first17)


def issue(services: Any, sector: str, *, agency: str | None = None, scopes: Any = None, days: int = 30,
          seq: int | None = None, name: str | None = None) -> keys.IssuedKey:
    """A partner of `sector` (created if missing) and a fresh key for it."""
    now = services.clock.now()
    code = partner_uscc(sector, seq)
    with services.db.write() as conn:
        try:
            keys.get_partner(conn, code)
        except keys.AccessError:
            keys.add_partner(conn, uscc_code=code, name=name or f"test {sector} partner", sector=sector, now=now,
                             agency_code=agency if sector == "agency" else None)
        return keys.issue_key(conn, partner_uscc=code, now=now, days=days, scopes=scopes)


def headers_for(issued: keys.IssuedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued.token}"}


def operator_headers(services: Any) -> dict[str, str]:
    """Headers of a fresh operator key: every scope (what the `client` test fixture sends)."""
    return headers_for(issue(services, "operator"))


def expire_soon(services: Any, key_id: str, when: dt.datetime) -> None:
    from sqlalchemy import update

    from gateway.store.access_tables import access_credentials

    with services.db.write() as conn:
        conn.execute(update(access_credentials).where(access_credentials.c.key_id == key_id).values(expires_at=when))
    keys.CACHE.forget(key_id)
