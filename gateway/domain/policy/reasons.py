"""Reasons: why a decision came out as it did (理由).

Every decision the engine makes carries one or more `Reason` values: the case code that
applied, the ids of the records that caused it, the profile entry that holds the rule (a
dotted key path into the YAML profile), the docs/policy.md section and source document the entry
cites, and a human sentence in Chinese and English. A partner or an operator can follow a
reason from the published decision back to the record and to the policy text.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.policy.output import Output


@dataclass(frozen=True, slots=True)
class Reason(Output):
    case: str  # case code: a ViolationCase value or a profile case key
    record_ids: tuple[str, ...]
    entry: str  # profile entry key path, e.g. "lists.joint_punishment.cases.fatal_general_accidents_365_days"
    rules: str  # docs/policy.md section, e.g. "§4"
    source: str  # source document reference, e.g. "001 §三(一)3"
    text_zh: str
    text_en: str


_SHARED: dict[tuple[str, str, int, str, str], tuple[object, Reason]] = {}


def reason(
    case: str,
    record_ids: tuple[str, ...] | list[str],
    entry: str,
    cited: object,
    zh: str = "",
    en: str = "",
) -> Reason:
    """A Reason for profile entry `cited` (anything with rules/source/text_zh/text_en).

    `zh`/`en` add the specifics of this subject to the entry's own text. Reasons without
    records (most "condition met" reasons) are the same for many subjects and are shared.
    """
    if not record_ids:
        key = (case, entry, id(cited), zh, en)
        hit = _SHARED.get(key)
        if hit is not None and hit[0] is cited:  # the id of a freed entry may be reused
            return hit[1]
        if len(_SHARED) > 4096:
            _SHARED.clear()
        shared = _make(case, (), entry, cited, zh, en)
        _SHARED[key] = (cited, shared)
        return shared
    return _make(case, tuple(record_ids), entry, cited, zh, en)


def _make(case: str, record_ids: tuple[str, ...], entry: str, cited: object, zh: str, en: str) -> Reason:
    base_zh = getattr(cited, "text_zh", "")
    base_en = getattr(cited, "text_en", "")
    return Reason(
        case=case,
        record_ids=record_ids,
        entry=entry,
        rules=getattr(cited, "rules", ""),
        source=getattr(cited, "source", ""),
        text_zh=f"{base_zh}：{zh}" if zh and base_zh else (zh or base_zh),
        text_en=f"{base_en}: {en}" if en and base_en else (en or base_en),
    )
