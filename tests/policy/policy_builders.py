"""Builders of `Record` values for the policy tests (plain functions, not fixtures).

Each record's `data` is what intake stores: `to_jsonable(validate_data(kind, fields))`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.records import Record, RecordKind, to_jsonable, validate_data
from gateway.policy.profiles import load_profile

MUNICIPAL = load_profile("municipal-2021")
NATIONAL = load_profile("national-2023")
CALENDAR = WorkingCalendar()
SUBJECT = "91510703MA62X0YY0B"
D = dt.date.fromisoformat

_ids = itertools.count(1)


def record(kind: str, fields: dict[str, Any], *, id: str | None = None, status: str = "current") -> Record:
    model = validate_data(kind, fields)
    return Record(
        id=id or f"{kind[:3]}-{next(_ids)}",
        kind=RecordKind(kind),
        subject=SUBJECT,
        agency="绵阳市应急管理局",
        event_date=model.event_date(),
        data=to_jsonable(model),
        status=status,
    )


def accident(
    on: str, grade: str = "一般", deaths: int = 0, injuries: int = 0, id: str | None = None, **extra: Any
) -> Record:
    return record(
        "accident",
        {"occurred_on": on, "grade": grade, "deaths": deaths, "injuries": injuries, **extra},
        id=id,
    )


def violation(on: str, case: str, role: str = "unit", id: str | None = None) -> Record:
    return record(
        "violation",
        {"case": case, "occurred_on": on, "evidence_ref": "执法文书 2025-001", "person_role": role},
        id=id,
    )


def penalty(
    on: str, serious: bool = False, id: str | None = None, authority: str = "绵阳市应急管理局"
) -> Record:
    return record(
        "penalty",
        {
            "CF_XDR_MC": "绵阳市某化工有限公司",
            "CF_XDR_SHXYM": SUBJECT,
            "CF_WSH": "绵应急罚〔2025〕12号",
            "CF_WFXW": "未按规定开展安全生产教育培训",
            "CF_SY": "未对从业人员进行安全生产教育和培训",
            "CF_YJ": "《中华人民共和国安全生产法》第九十七条",
            "CF_CFLB": "罚款",
            "CF_NR": "罚款人民币贰万元整",
            "CF_NR_FK": "2",
            "CF_JDRQ": on,
            "CF_CFJG": authority,
            "CF_CFJGDM": "11510700MB12345623",
            "serious": serious,
        },
        id=id,
    )


def licence(on: str, id: str | None = None) -> Record:
    return record(
        "licence",
        {
            "XK_XDR_MC": "绵阳市某化工有限公司",
            "XK_XKWS": "危险化学品经营许可证",
            "XK_WSH": "川绵危化经〔2025〕3号",
            "XK_XKLB": "普通",
            "XK_NR": "危险化学品经营",
            "XK_JDRQ": on,
            "XK_YXQZ": on,
            "XK_XKJG": "绵阳市应急管理局",
            "XK_XKJGDM": "11510700MB12345623",
        },
        id=id,
    )


def grade(year: int, level: int | str = 1, id: str | None = None, **extra: Any) -> Record:
    return record(
        "standardization_grade", {"grade": level, "issuer": "四川省应急管理厅", "year": year, **extra}, id=id
    )


def score(year: int, value: str, veto: tuple[str, ...] = (), id: str | None = None) -> Record:
    return record("integrity_score", {"score": value, "veto_items": list(veto), "year": year}, id=id)


def commitment(on: str, published: bool = True, kept: bool = True, id: str | None = None) -> Record:
    fields: dict[str, Any] = {"items": ["严格执行安全生产法律法规"], "committed_on": on, "kept": kept}
    if published:
        fields["published_at"] = "信用中国(四川)"
    return record("commitment", fields, id=id)


def exemplary_unit() -> list[Record]:
    """A unit that meets all six incentive conditions in 2025."""
    return [
        commitment("2022-03-01", id="commit-1"),
        grade(2024, 1, id="grade-1", awarded_on="2024-06-01"),
        score(2024, "96", id="score-2024"),
    ]
