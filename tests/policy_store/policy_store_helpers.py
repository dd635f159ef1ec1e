"""Record builders and client shortcuts for the policy-store tests."""

from __future__ import annotations

from typing import Any


def subject_block(code: str, name: str = "绵阳市某矿业有限公司") -> dict[str, Any]:
    return {"uscc": code, "name": name}


def commitment(source_id: str, code: str, committed: str = "2024-03-01", published: bool = True, **extra: Any) -> dict:
    data: dict[str, Any] = {"items": ["安全生产承诺"], "committed_on": committed, **extra}
    if published:
        data["published_at"] = "信用中国（四川）"
    return {"kind": "commitment", "source_record_id": source_id, "subject": subject_block(code), "data": data}


def grade(source_id: str, code: str, level: int = 1, year: int = 2024) -> dict:
    return {
        "kind": "standardization_grade",
        "source_record_id": source_id,
        "subject": subject_block(code),
        "data": {"grade": level, "issuer": "四川省应急管理厅", "year": year, "awarded_on": f"{year}-04-01"},
    }


def score(source_id: str, code: str, value: str, year: int) -> dict:
    return {
        "kind": "integrity_score",
        "source_record_id": source_id,
        "subject": subject_block(code),
        "data": {"score": value, "year": year},
    }


def violation(source_id: str, code: str, case: str, occurred: str) -> dict:
    return {
        "kind": "violation",
        "source_record_id": source_id,
        "subject": subject_block(code),
        "data": {"case": case, "occurred_on": occurred, "evidence_ref": f"绵应急证〔2025〕{source_id}"},
    }


def post(client, record: dict, agency: str = "MY-AJJ") -> dict:  # noqa: ANN001
    r = client.post(f"/v1/records?agency={agency}", json=record)
    assert r.status_code in (200, 201), r.text
    return r.json()


def step(client, entry_id: str, action: str, **body: Any):  # noqa: ANN001, ANN201
    return client.post(f"/v1/list-entries/{entry_id}/transitions", json={"action": action, **body})


def entries(client, **query: Any) -> list[dict]:  # noqa: ANN001
    r = client.get("/v1/list-entries", params=query)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def approve_levels(client, services, entry_id: str, **body: Any):  # noqa: ANN001, ANN201
    """Each level the entry waits for approves with its own credential (rule 6); the last answer."""
    from gateway.access.testing import headers_for, issue

    r = None
    for _ in range(8):
        r = client.post(f"/v1/list-entries/{entry_id}/transitions", json={"action": "approve", **body},
                        headers=headers_for(issue(services, "operator", days=3650)))
        assert r.status_code == 200, r.text
        if r.json()["transition"]["action"] != "approve":
            return r
    raise AssertionError("the approvals never carried the step out")
