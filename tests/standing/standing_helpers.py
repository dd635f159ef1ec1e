"""Builders and shortcuts for the standing tests (records, the list procedure, what was queued)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.store.publication_tables import publication_items as pi
from tests.factories import accident

# Sichuan platform, a land office and a bank of Mianyang, the Sichuan agency: one per sector
LAYOUT = {
    "sichuan-platform": {"sector": "platform", "regions": ["510000"]},
    "mianyang-land": {"sector": "land", "item_kinds": ["list"], "regions": ["510700"]},
    "mianyang-bank": {"sector": "finance", "item_kinds": ["list", "penalty"], "regions": ["51"]},
    "sichuan-agency": {"sector": "agency", "regions": ["510000"]},
}
THREE_ACCIDENTS = [("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")]


def post(client, record: dict, agency: str = "MY-AJJ") -> dict:  # noqa: ANN001
    r = client.post(f"/v1/records?agency={agency}", json=record)
    assert r.status_code in (200, 201), r.text
    return r.json()


def withdraw(client, source_id: str, reason: str = "撤销", agency: str = "MY-AJJ") -> dict:  # noqa: ANN001
    return post(client, {"source_record_id": source_id, "action": "withdraw", "reason": reason}, agency)


def step(client, entry_id: str, action: str, **body: Any):  # noqa: ANN001, ANN201
    r = client.post(f"/v1/list-entries/{entry_id}/transitions", json={"action": action, **body})
    return r


def entries(client, **query: Any) -> list[dict]:  # noqa: ANN001
    r = client.get("/v1/list-entries", params=query)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def list_three_accidents(client, unit: str, accidents=THREE_ACCIDENTS) -> dict:  # noqa: ANN001
    """Three fatal general accidents within 365 days: a proposed joint punishment entry."""
    for source_id, day in accidents:
        post(client, accident(source_id, unit, day))
    [entry] = [e for e in entries(client, subject=unit) if e["list"] == "joint_punishment"]
    return entry


def publish(client, clock, entry_id: str) -> dict:  # noqa: ANN001
    """Notice, the argument period, confirmation and publication (docs/policy.md §6)."""
    assert step(client, entry_id, "notify").status_code == 200
    clock.advance(days=10)
    assert step(client, entry_id, "confirm").status_code == 200
    r = step(client, entry_id, "publish")
    assert r.status_code == 200, r.text
    return r.json()["entry"]


def items(services, *, destination: str | None = None, kind: str | None = None) -> list[Any]:
    q = select(pi).order_by(pi.c.id)
    if destination:
        q = q.where(pi.c.destination == destination)
    if kind:
        q = q.where(pi.c.kind == kind)
    with services.db.read() as conn:
        return list(conn.execute(q))


def destinations_of(services, kind: str, list_name: str | None = None) -> set[str]:
    return {r.destination for r in items(services, kind=kind) if list_name is None or r.fields.get("list") == list_name}


def approve_levels(client, services, entry_id: str):  # noqa: ANN001, ANN201
    """Each level the entry waits for approves with its own credential (rule 6); the last answer."""
    from gateway.access.testing import headers_for, issue

    for _ in range(8):
        r = client.post(f"/v1/list-entries/{entry_id}/transitions", json={"action": "approve"},
                        headers=headers_for(issue(services, "operator", days=3650)))
        assert r.status_code == 200, r.text
        if r.json()["transition"]["action"] != "approve":
            return r
    raise AssertionError("the approvals never carried the step out")
