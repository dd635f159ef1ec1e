"""Builders shared by the access tests."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.factories import make_uscc

PERSON_ID = "510703198001011232"  # a valid GB 11643 number
LISTED = make_uscc(21)
CLEAN = make_uscc(22)


def violation(source_id: str, code: str, case: str = "jp02_unlicensed_operation", occurred: str = "2025-05-10",
              person_id: str | None = PERSON_ID) -> dict:
    data = {"case": case, "occurred_on": occurred, "evidence_ref": f"绵应急查〔2025〕{source_id}号",
            "person_role": "legal_representative", "person_name": "张三"}
    if person_id:
        data["person_id_number"] = person_id
    return {"kind": "violation", "source_record_id": source_id,
            "subject": {"uscc": code, "name": "绵阳市某危化有限公司"}, "data": data}


def seed_listed_subject(client, services, code: str = LISTED, agency: str = "MY-AJJ") -> None:  # noqa: ANN001
    """An agency's violation record, and its joint punishment entry walked to publication."""
    r = client.post(f"/v1/records?agency={agency}", json=violation("V-" + code[-6:], code))
    assert r.status_code == 201, r.text
    publish_proposed(services)


def publish_proposed(services) -> list[str]:  # noqa: ANN001
    """Notice, confirmation and publication of every proposed entry, then the feed drained."""
    uids = [e["id"] for e in services.policy.entries(state="proposed", limit=1000)[0]]
    for uid in uids:
        for action in ("notify", "confirm", "publish"):
            services.policy.transition(uid, action, "operator:test",
                                       argument="waived" if action == "confirm" else None)
    services.consumer.drain()
    return uids


def insert_list_entry(services, subject_key: str, list_kind: str = "joint_punishment", state: str = "published",
                      starts_on: dt.date = dt.date(2025, 5, 20), expires_on: dt.date = dt.date(2026, 5, 20)) -> str:
    from sqlalchemy import select

    from gateway.store.policy_tables import list_entries
    from gateway.store.tables import subjects

    now = services.clock.now()
    uid = "ent_" + uuid.uuid4().hex
    with services.db.write() as conn:
        sid = conn.execute(select(subjects.c.id).where(subjects.c.key == subject_key)).scalar_one()
        conn.execute(list_entries.insert().values(
            uid=uid, subject_id=sid, list_kind=list_kind, state=state, open_key=f"{list_kind}:test", cases=["unlicensed_operation"],
            record_uids=[], reasons=[{"case": "jp02_unlicensed_operation", "text_zh": "未取得安全生产许可擅自生产经营",
                                      "text_en": "operating without a licence", "rules": "§4", "source": "001 §三(一)3",
                                      "record_ids": ["rec_x"], "entry": "lists.joint_punishment.cases.unlicensed_operation"}],
            profile="municipal-2021", starts_on=starts_on, expires_on=expires_on, created_at=now, updated_at=now))
        from gateway.changes import feed

        feed.enqueue(conn, [sid], now, "test")
    services.consumer.drain()
    return uid
