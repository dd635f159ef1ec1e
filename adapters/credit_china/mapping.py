"""How bulletin items map to what 信用中国 (and its provincial sites) publish.

The gateway's bulletin already speaks the platforms' language for 双公示: licence and
penalty items carry the field codes of the 2021 双公示 data standard (XK_* 行政许可,
CF_* 行政处罚) unchanged, so the adapter sends the signed bulletin as it is and the platform
(or a thin receiving service in front of it) reads the same names. This module is the
reference for that mapping — the 双公示 columns, their Chinese labels, which ones the
platform requires — and for the gateway's own item kinds, which the platforms file under
their 信用信息 categories:

| item kind            | platform category                         | code |
|----------------------|-------------------------------------------|------|
| licence.publication  | 行政许可                                   | XK   |
| licence.withdrawal   | 行政许可 撤销/撤回公示                      | XK   |
| penalty.publication  | 行政处罚                                   | CF   |
| penalty.withdrawal   | 行政处罚 公示撤下 (到期、修复、撤销)          | CF   |
| repair               | 信用修复                                   | XF   |
| list.inclusion/...   | 失信惩戒对象名单 / 守信激励对象名单 (红黑名单) | MD   |
| rating               | 信用评价结果                                | PJ   |
| commitment           | 信用承诺                                   | CN   |

`platform_record(item)` gives one item as the record a platform files (category + labelled
fields); `missing_required(item)` lists the 2021 standard's required columns an item lacks
(the simulator rejects such items with `E_REQUIRED`, as the platforms' validators do).
Pointing the adapter at a real platform that wants JSON instead of the signed XML means
building the body from `platform_record` — see docs/destinations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.publication.bulletin import BulletinItem
from gateway.publication.content import ItemKind

# code: (label, required by the 2021 standard)
LICENCE: dict[str, tuple[str, bool]] = {
    "XK_XDR_MC": ("行政相对人名称", True),
    "XK_XDR_LB": ("行政相对人类别", False),
    "XK_XDR_SHXYM": ("行政相对人代码_1(统一社会信用代码)", False),
    "XK_XDR_GSZC": ("行政相对人代码_2(工商注册号)", False),
    "XK_XDR_ZZJG": ("行政相对人代码_3(组织机构代码)", False),
    "XK_XDR_SWDJ": ("行政相对人代码_4(税务登记号)", False),
    "XK_XDR_SYDW": ("行政相对人代码_5(事业单位证书号)", False),
    "XK_XDR_SHZZ": ("行政相对人代码_6(社会组织登记证号)", False),
    "XK_FRDB": ("法定代表人", False),
    "XK_FR_ZJLX": ("法定代表人证件类型", False),
    "XK_FR_ZJHM": ("法定代表人证件号码", False),
    "XK_XKWS": ("行政许可决定文书名称", True),
    "XK_WSH": ("行政许可决定文书号", True),
    "XK_XKLB": ("许可类别", True),
    "XK_XKZS": ("许可证书名称", False),
    "XK_XKBH": ("许可编号", False),
    "XK_NR": ("许可内容", True),
    "XK_JDRQ": ("许可决定日期", True),
    "XK_YXQZ": ("有效期自", True),
    "XK_YXQZI": ("有效期至", False),
    "XK_XKJG": ("许可机关", True),
    "XK_XKJGDM": ("许可机关统一社会信用代码", True),
    "XK_ZT": ("当前状态", False),
    "XK_LYDW": ("数据来源单位", False),
    "XK_LYDWDM": ("数据来源单位统一社会信用代码", False),
    "BZ": ("备注", False),
}

PENALTY: dict[str, tuple[str, bool]] = {
    "CF_XDR_MC": ("行政相对人名称", True),
    "CF_XDR_LB": ("行政相对人类别", False),
    "CF_XDR_SHXYM": ("行政相对人代码_1(统一社会信用代码)", False),
    "CF_XDR_GSZC": ("行政相对人代码_2(工商注册号)", False),
    "CF_XDR_ZZJG": ("行政相对人代码_3(组织机构代码)", False),
    "CF_XDR_SWDJ": ("行政相对人代码_4(税务登记号)", False),
    "CF_XDR_SYDW": ("行政相对人代码_5(事业单位证书号)", False),
    "CF_XDR_SHZZ": ("行政相对人代码_6(社会组织登记证号)", False),
    "CF_FRDB": ("法定代表人", False),
    "CF_FR_ZJLX": ("法定代表人证件类型", False),
    "CF_FR_ZJHM": ("法定代表人证件号码", False),
    "CF_XDR_ZJLX": ("证件类型", False),
    "CF_XDR_ZJHM": ("证件号码", False),
    "CF_WSH": ("行政处罚决定书文号", True),
    "CF_WFXW": ("违法行为类型", True),
    "CF_SY": ("违法事实", True),
    "CF_YJ": ("处罚依据", True),
    "CF_CFLB": ("处罚类别", True),
    "CF_NR": ("处罚内容", True),
    "CF_NR_FK": ("罚款金额(万元)", False),
    "CF_NR_WFFF": ("没收违法所得、没收非法财物的金额(万元)", False),
    "CF_NR_ZKDX": ("暂扣或吊销证照名称及编号", False),
    "CF_JDRQ": ("处罚决定日期", True),
    "CF_YXQ": ("处罚有效期", False),
    "CF_GSJZQ": ("公示截止期", False),
    "CF_CFJG": ("处罚机关", True),
    "CF_CFJGDM": ("处罚机关统一社会信用代码", True),
    "CF_SJLY": ("数据来源单位", False),
    "CF_SJLYDM": ("数据来源单位统一社会信用代码", False),
    "BZ": ("备注", False),
}

# The gateway's own kinds: snake_case field → platform label.
OWN_FIELDS: dict[str, str] = {
    "ref_bulletin_id": "原公示批次号",
    "ref_item_id": "原公示条目号",
    "decision_number": "原决定文书号",
    "reason": "撤下原因",
    "withdrawn_on": "撤下日期",
    "repair_decision_ref": "信用修复决定文号",
    "repaired_on": "修复日期",
    "note": "说明",
    "list": "名单类别",
    "level": "失信等级",
    "subject_name": "主体名称",
    "cases": "列入情形",
    "period_start": "列入日期",
    "period_end": "移出日期",
    "measures": "惩戒/激励措施",
    "effective_on": "生效日期",
    "scheme": "评价类别",
    "value": "评价结果",
    "score": "得分",
    "year": "年度",
    "items": "承诺事项",
    "committed_on": "承诺日期",
}

CATEGORY: dict[ItemKind, tuple[str, str]] = {
    ItemKind.LICENCE_PUBLICATION: ("XK", "行政许可"),
    ItemKind.LICENCE_WITHDRAWAL: ("XK", "行政许可撤销公示"),
    ItemKind.PENALTY_PUBLICATION: ("CF", "行政处罚"),
    ItemKind.PENALTY_WITHDRAWAL: ("CF", "行政处罚公示撤下"),
    ItemKind.REPAIR: ("XF", "信用修复"),
    ItemKind.LIST_INCLUSION: ("MD", "红黑名单列入"),
    ItemKind.LIST_CHANGE: ("MD", "红黑名单变更"),
    ItemKind.LIST_REMOVAL: ("MD", "红黑名单移出"),
    ItemKind.RATING: ("PJ", "信用评价结果"),
    ItemKind.COMMITMENT: ("CN", "信用承诺"),
}

_STANDARD = {ItemKind.LICENCE_PUBLICATION: LICENCE, ItemKind.PENALTY_PUBLICATION: PENALTY}
# The subject's USCC column of each 双公示 kind (the platform files the record under it).
SUBJECT_FIELD = {ItemKind.LICENCE_PUBLICATION: "XK_XDR_SHXYM", ItemKind.PENALTY_PUBLICATION: "CF_XDR_SHXYM"}


def label(kind: ItemKind | str, field: str) -> str:
    table = _STANDARD.get(ItemKind(kind))
    if table and field in table:
        return table[field][0]
    return OWN_FIELDS.get(field, field)


def missing_required(item: BulletinItem) -> list[str]:
    """The 2021 standard's required columns the item lacks (双公示 kinds only)."""
    table = _STANDARD.get(ItemKind(item.kind))
    if table is None:
        return []
    return [code for code, (_, required) in table.items() if required and item.fields.get(code) in (None, "")]


def subject_mismatch(item: BulletinItem) -> str | None:
    """The USCC column, if it names a subject other than the item's (a platform files by it)."""
    column = SUBJECT_FIELD.get(ItemKind(item.kind))
    value = item.fields.get(column) if column else None
    if value and len(item.subject) == 18 and value != item.subject:
        return f"{column}={value} but the item's subject is {item.subject}"
    return None


def platform_record(item: BulletinItem) -> dict[str, Any]:
    """One item as the record a platform files: category, subject, labelled fields."""
    kind = ItemKind(item.kind)
    code, name = CATEGORY[kind]
    fields: Mapping[str, Any] = item.fields
    return {
        "category": code,
        "category_name": name,
        "item_id": item.item_id,
        "subject": item.subject,
        "fields": {f: {"label": label(kind, f), "value": v} for f, v in fields.items()},
    }
