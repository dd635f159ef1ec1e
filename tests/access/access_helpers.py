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


def seed_listed_subject(client, code: str = LISTED, agency: str = "MY-AJJ") -> None:
    r = client.post(f"/v1/records?agency={agency}", json=violation("V-" + code[-6:], code))
    assert r.status_code == 201, r.text


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
    return uid
