"""Bulletin item kinds and their fields, in schema order (`schemas/xsd/bulletin.xsd`).

An item is `<Item itemId=".." kind=".." subject="..">` around one content element whose
children are the item's fields, each element named by its field: the 2021 双公示 standard
codes (XK_* for 行政许可, CF_* for 行政处罚, as in `gateway.domain.records`) and snake_case
names for the gateway's own kinds. A field's type decides how it is written and read back:

  text · code (enumerated text) · date · datetime · decimal · int · bool ·
  list:<child> (repeated <child> text elements) · measures (receiver + measure code + text)

Item kinds (docs/policy.md §2-§9):

  licence.publication / licence.withdrawal     行政许可 公示 / 撤下
  penalty.publication / penalty.withdrawal     行政处罚 公示 / 撤下 (at the maximum period)
  list.inclusion / list.change / list.removal  名单 纳入 / 变更 / 移出, with cases, period, measures
  rating                                       诚信等级 / 星级 / 监管分级
  commitment                                   安全生产承诺
  repair                                       信用修复: withdraws an earlier publication early
  watch.change                                 贷后监控: a watched subject's standing changed, as
                                               the watchlist's sector sees it (before, after, why)
"""

from __future__ import annotations

from enum import StrEnum


class ItemKind(StrEnum):
    LICENCE_PUBLICATION = "licence.publication"
    LICENCE_WITHDRAWAL = "licence.withdrawal"
    PENALTY_PUBLICATION = "penalty.publication"
    PENALTY_WITHDRAWAL = "penalty.withdrawal"
    LIST_INCLUSION = "list.inclusion"
    LIST_CHANGE = "list.change"
    LIST_REMOVAL = "list.removal"
    RATING = "rating"
    COMMITMENT = "commitment"
    REPAIR = "repair"
    WATCH_CHANGE = "watch.change"


class BulletinKind(StrEnum):
    PUBLICATION = "publication"
    WITHDRAWAL = "withdrawal"
    LIST = "list"
    RATING = "rating"
    COMMITMENT = "commitment"
    REPAIR = "repair"
    WATCH = "watch"
    MIXED = "mixed"


LICENCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("XK_XDR_MC", "text"),
    ("XK_XDR_LB", "text"),
    ("XK_XDR_SHXYM", "text"),
    ("XK_XDR_GSZC", "text"),
    ("XK_XDR_ZZJG", "text"),
    ("XK_XDR_SWDJ", "text"),
    ("XK_XDR_SYDW", "text"),
    ("XK_XDR_SHZZ", "text"),
    ("XK_FRDB", "text"),
    ("XK_FR_ZJLX", "text"),
    ("XK_FR_ZJHM", "text"),
    ("XK_XKWS", "text"),
    ("XK_WSH", "text"),
    ("XK_XKLB", "text"),
    ("XK_XKZS", "text"),
    ("XK_XKBH", "text"),
    ("XK_NR", "text"),
    ("XK_JDRQ", "date"),
    ("XK_YXQZ", "date"),
    ("XK_YXQZI", "date"),
    ("XK_XKJG", "text"),
    ("XK_XKJGDM", "text"),
    ("XK_ZT", "code"),
    ("XK_LYDW", "text"),
    ("XK_LYDWDM", "text"),
    ("BZ", "text"),
)

PENALTY_FIELDS: tuple[tuple[str, str], ...] = (
    ("CF_XDR_MC", "text"),
    ("CF_XDR_LB", "text"),
    ("CF_XDR_SHXYM", "text"),
    ("CF_XDR_GSZC", "text"),
    ("CF_XDR_ZZJG", "text"),
    ("CF_XDR_SWDJ", "text"),
    ("CF_XDR_SYDW", "text"),
    ("CF_XDR_SHZZ", "text"),
    ("CF_FRDB", "text"),
    ("CF_FR_ZJLX", "text"),
    ("CF_FR_ZJHM", "text"),
    ("CF_XDR_ZJLX", "text"),
    ("CF_XDR_ZJHM", "text"),
    ("CF_WSH", "text"),
    ("CF_WFXW", "text"),
    ("CF_SY", "text"),
    ("CF_YJ", "text"),
    ("CF_CFLB", "text"),
    ("CF_NR", "text"),
    ("CF_NR_FK", "decimal"),
    ("CF_NR_WFFF", "decimal"),
    ("CF_NR_ZKDX", "text"),
    ("CF_JDRQ", "date"),
    ("CF_YXQ", "date"),
    ("CF_GSJZQ", "date"),
    ("CF_CFJG", "text"),
    ("CF_CFJGDM", "text"),
    ("CF_SJLY", "text"),
    ("CF_SJLYDM", "text"),
    ("BZ", "text"),
    ("serious", "bool"),
)

# Field names of bulletins signed before the penalty codes became the platforms' (migration 0008);
# bulletin.xsd still accepts them, and they are read under the new names.
LEGACY_FIELD_NAMES = {"CF_XZCFJDSWH": "CF_WSH", "CF_WFSS": "CF_SY"}

WITHDRAWAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("ref_bulletin_id", "text"),  # the bulletin that published it
    ("ref_item_id", "text"),
    ("decision_number", "text"),  # XK_WSH / CF_WSH of the withdrawn publication
    ("reason", "code"),  # expired | repaired | revoked | corrected | objection_upheld
    ("withdrawn_on", "date"),
    ("note", "text"),
)

REPAIR_FIELDS: tuple[tuple[str, str], ...] = (
    ("ref_bulletin_id", "text"),
    ("ref_item_id", "text"),
    ("decision_number", "text"),
    ("repair_decision_ref", "text"),  # 信用修复决定 reference
    ("repaired_on", "date"),
    ("repairing_agency", "text"),
    ("note", "text"),
)

LIST_ENTRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("list", "code"),  # bad_credit | joint_punishment | blacklist | incentive | serious_dishonest | key_monitoring
    ("level", "code"),  # district | city | provincial | national (bad-credit cascade, docs/policy.md §3)
    ("subject_name", "text"),
    ("cases", "list:case"),  # ViolationCase codes (docs/policy.md §4, §10)
    ("period_start", "date"),
    ("period_end", "date"),
    ("measures", "measures"),  # the joint measures for THIS bulletin's receiver (docs/policy.md §9)
    ("decision_ref", "text"),
    ("ref_bulletin_id", "text"),  # change / removal: the inclusion it amends
    ("ref_item_id", "text"),
    ("reason", "text"),
    ("effective_on", "date"),
)

RATING_FIELDS: tuple[tuple[str, str], ...] = (
    ("scheme", "code"),  # standardization_grade | star | integrity_grade | supervision_tier
    ("value", "text"),
    ("score", "decimal"),
    ("year", "int"),
    ("subject_name", "text"),
    ("valid_from", "date"),
    ("valid_until", "date"),
)

COMMITMENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("committer_role", "code"),
    ("items", "list:item"),
    ("committed_on", "date"),
    ("published_at", "text"),
    ("kept", "bool"),
)

WATCH_FIELDS: tuple[tuple[str, str], ...] = (
    ("watchlist", "text"),  # the watchlist id
    ("change_seq", "int"),  # the change's number in the watchlist's feed (GET …/changes?since=)
    ("subject_name", "text"),
    ("standing_version", "int"),  # the stored standing's version after the change
    ("before_standing", "code"),  # clear | restricted | unknown (never decided before)
    ("after_standing", "code"),
    ("before_lists", "list:item"),  # "blacklist in_force until 2027-05-01"
    ("after_lists", "list:item"),
    ("before_measures", "list:item"),  # the measures for the watchlist's sector, as text
    ("after_measures", "list:item"),
    ("before_rating", "text"),
    ("after_rating", "text"),
    ("changes", "list:item"),  # listed:blacklist, removed:incentive, measure_added:…, rating:stars 2→3
    ("reasons", "list:item"),  # the cases and their legal sources behind what was added
    ("changed_at", "datetime"),
)

# item kind -> (content element name, fields in schema order)
CONTENT: dict[ItemKind, tuple[str, tuple[tuple[str, str], ...]]] = {
    ItemKind.LICENCE_PUBLICATION: ("Licence", LICENCE_FIELDS),
    ItemKind.LICENCE_WITHDRAWAL: ("Withdrawal", WITHDRAWAL_FIELDS),
    ItemKind.PENALTY_PUBLICATION: ("Penalty", PENALTY_FIELDS),
    ItemKind.PENALTY_WITHDRAWAL: ("Withdrawal", WITHDRAWAL_FIELDS),
    ItemKind.LIST_INCLUSION: ("ListEntry", LIST_ENTRY_FIELDS),
    ItemKind.LIST_CHANGE: ("ListEntry", LIST_ENTRY_FIELDS),
    ItemKind.LIST_REMOVAL: ("ListEntry", LIST_ENTRY_FIELDS),
    ItemKind.RATING: ("Rating", RATING_FIELDS),
    ItemKind.COMMITMENT: ("Commitment", COMMITMENT_FIELDS),
    ItemKind.REPAIR: ("Repair", REPAIR_FIELDS),
    ItemKind.WATCH_CHANGE: ("WatchChange", WATCH_FIELDS),
}
