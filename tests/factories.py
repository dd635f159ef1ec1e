"""Builders of valid identifiers and realistic records for tests (not fixtures: plain functions)."""

from __future__ import annotations

from typing import Any

from gateway.domain.identifiers import orgcode, uscc

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(seq: int, division: str = "510703", authority: str = "9", category: str = "1") -> str:
    body8 = f"{seq:08d}"[-8:]
    org = body8 + orgcode.calc_check_digit(body8)
    first17 = authority + category + division + org
    return first17 + uscc.calc_check_digit(first17)


def penalty(source_id: str, code: str, name: str = "绵阳市某化工有限公司", decided: str = "2025-05-20", **extra: Any) -> dict:
    data = {
        "CF_XDR_MC": name,
        "CF_XDR_SHXYM": code,
        "CF_WSH": f"绵应急罚〔2025〕{source_id}号",
        "CF_WFXW": "未按规定开展安全生产教育培训",
        "CF_SY": "经查，该单位未对从业人员进行安全生产教育和培训",
        "CF_YJ": "《中华人民共和国安全生产法》第九十七条",
        "CF_CFLB": "罚款",
        "CF_NR": "罚款人民币贰万元整",
        "CF_NR_FK": "2",
        "CF_JDRQ": decided,
        "CF_CFJG": "绵阳市应急管理局",
        "CF_CFJGDM": "11510700MB12345623",
    }
    data.update(extra)
    return {"kind": "penalty", "source_record_id": source_id, "data": data}


def accident(source_id: str, code: str, occurred: str, grade: str = "general", deaths: int = 1, **extra: Any) -> dict:
    return {
        "kind": "accident",
        "source_record_id": source_id,
        "subject": {"uscc": code, "name": "绵阳市某矿业有限公司"},
        "data": {"occurred_on": occurred, "grade": grade, "deaths": deaths, **extra},
    }


def licence(source_id: str, code: str, decided: str = "2025-05-20") -> dict:
    return {
        "kind": "licence",
        "source_record_id": source_id,
        "data": {
            "XK_XDR_MC": "绵阳市某燃气有限公司",
            "XK_XDR_SHXYM": code,
            "XK_XKWS": "危险化学品经营许可证",
            "XK_WSH": f"川绵危化经字〔2025〕{source_id}",
            "XK_XKLB": "普通",
            "XK_NR": "危险化学品经营（不带储存）",
            "XK_JDRQ": decided,
            "XK_YXQZ": decided,
            "XK_YXQZI": "2028-05-19",
            "XK_XKJG": "绵阳市应急管理局",
            "XK_XKJGDM": "11510700MB12345623",
        },
    }


def _subject_block(code: str, name: str = "绵阳市某矿业有限公司") -> dict[str, Any]:
    return {"uscc": code, "name": name}


def commitment(source_id: str, code: str, committed: str = "2024-03-01", published: bool = True, **extra: Any) -> dict:
    data: dict[str, Any] = {"items": ["安全生产承诺"], "committed_on": committed, **extra}
    if published:
        data["published_at"] = "信用中国（四川）"
    return {"kind": "commitment", "source_record_id": source_id, "subject": _subject_block(code), "data": data}


def grade(source_id: str, code: str, level: int = 1, year: int = 2024) -> dict:
    return {
        "kind": "standardization_grade",
        "source_record_id": source_id,
        "subject": _subject_block(code),
        "data": {"grade": level, "issuer": "四川省应急管理厅", "year": year, "awarded_on": f"{year}-04-01"},
    }


def score(source_id: str, code: str, value: str, year: int) -> dict:
    return {
        "kind": "integrity_score",
        "source_record_id": source_id,
        "subject": _subject_block(code),
        "data": {"score": value, "year": year},
    }


def violation(source_id: str, code: str, case: str, occurred: str) -> dict:
    return {
        "kind": "violation",
        "source_record_id": source_id,
        "subject": _subject_block(code),
        "data": {"case": case, "occurred_on": occurred, "evidence_ref": f"绵应急证〔2025〕{source_id}"},
    }
