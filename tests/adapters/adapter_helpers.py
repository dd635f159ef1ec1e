"""Builders for adapter tests: signed bulletins, destination configs, deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from gateway.delivery.destinations import parse_destinations
from gateway.delivery.port import OutgoingDelivery
from gateway.publication.bulletin import BulletinHeader, BulletinItem, sign_bulletin
from gateway.publication.content import BulletinKind, ItemKind
from tests.factories import make_uscc

USCC = make_uscc(4711)


def receipt_trust(sim: Any) -> Any:
    """The trust a simulator's receipts verify against: its own certificate, pinned."""
    from gateway.signing.dsig import Trust

    return Trust.from_pem(sim.name, sim.certificate.read_bytes())


def penalty_item(item_id: str = "it-penalty-1", subject: str = USCC, **extra: Any) -> BulletinItem:
    fields = {
        "CF_XDR_MC": "绵阳市某化工有限公司", "CF_XDR_SHXYM": subject, "CF_WSH": "绵应急罚〔2025〕7号",
        "CF_WFXW": "未按规定开展安全生产教育培训", "CF_SY": "未对从业人员进行安全生产教育和培训",
        "CF_YJ": "《中华人民共和国安全生产法》第九十七条", "CF_CFLB": "罚款", "CF_NR": "罚款人民币贰万元整",
        "CF_JDRQ": dt.date(2025, 5, 20), "CF_CFJG": "绵阳市应急管理局", "CF_CFJGDM": "11510700MB12345623",
        **extra,
    }
    return BulletinItem(item_id, ItemKind.PENALTY_PUBLICATION, subject, fields)


def list_item(item_id: str = "it-list-1", receivers: tuple[str, ...] = ("land",), subject: str = USCC) -> BulletinItem:
    measures = [{"receiver": r, "code": f"joint_punishment_{r}_0", "text": f"{r} 措施"} for r in receivers]
    fields: dict[str, Any] = {"list": "joint_punishment", "subject_name": "绵阳市某矿业有限公司",
                              "cases": ["jp01_accident"], "period_start": dt.date(2025, 3, 1),
                              "period_end": dt.date(2026, 2, 28)}
    if measures:
        fields["measures"] = measures
    return BulletinItem(item_id, ItemKind.LIST_INCLUSION, subject, fields)


def signed_bulletin(key, items: list[BulletinItem] | None = None, *, bulletin_id: str = "bl-test-0000001",  # noqa: ANN001
                    destination: str = "test") -> bytes:
    items = items if items is not None else [penalty_item()]
    kinds = {i.kind for i in items}
    kind = BulletinKind.PUBLICATION if kinds == {ItemKind.PENALTY_PUBLICATION} else BulletinKind.MIXED
    if kinds == {ItemKind.LIST_INCLUSION}:
        kind = BulletinKind.LIST
    header = BulletinHeader(bulletin_id, 1, "11510700MB12345623", dt.datetime.now(dt.UTC), "municipal-2021",
                            destination, kind)
    return sign_bulletin(header, items, key)


def delivery(signed: bytes, *, delivery_id: str | None = None, bulletin_id: str = "bl-test-0000001",
             destination: str = "test", attempt: int = 1) -> OutgoingDelivery:
    return OutgoingDelivery(delivery_id or f"d-{uuid.uuid4().hex[:20]}", bulletin_id, destination, signed, attempt)


def config(name: str, adapter: str, options: dict[str, Any], **rest: Any):  # noqa: ANN201
    return parse_destinations({"destinations": {name: {"adapter": adapter, "options": options, **rest}}})[name]
