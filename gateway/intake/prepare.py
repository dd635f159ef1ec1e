"""Turn one raw record (as sent by an agency) into a validated, normalised `Prepared` record.

Pure: no database. Everything wrong with a record is collected (not just the first problem)
so an agency can fix a row in one go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.domain.calendar import WorkingCalendar
from gateway.domain.identifiers import IdentifierError, identify, normalize_name
from gateway.domain.records import (
    PUBLISHED_KINDS,
    FieldProblem,
    RecordInvalid,
    RecordKind,
    to_jsonable,
    validate_data,
)
from gateway.intake.textsafety import unsafe_characters
from gateway.store.types import JsonText

# where the subject's identifiers sit inside 双公示 data, by kind
_XDR_FIELDS = {
    RecordKind.LICENCE: {
        "uscc": "XK_XDR_SHXYM",
        "name": "XK_XDR_MC",
        "reg_no": "XK_XDR_GSZC",
        "org_code": "XK_XDR_ZZJG",
    },
    RecordKind.PENALTY: {
        "uscc": "CF_XDR_SHXYM",
        "name": "CF_XDR_MC",
        "reg_no": "CF_XDR_GSZC",
        "org_code": "CF_XDR_ZZJG",
        "id_number": "CF_XDR_ZJHM",
    },
}
_SUBJECT_KEYS = ("uscc", "name", "org_code", "reg_no", "id_number")
_TOP_KEYS = {"kind", "source_record_id", "action", "subject", "region", "sector", "data", "reason"}
ACTIONS = ("publish", "withdraw")
_SECTOR = re.compile(r"[a-z][a-z_]{1,31}")


@dataclass(frozen=True)
class Prepared:
    index: int
    source_record_id: str
    action: str
    kind: RecordKind | None  # None for a withdrawal that does not restate it
    subject_key: str | None
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    category: str | None = None
    display_id: str | None = None
    name: str | None = None
    region: str | None = None
    sector: str | None = None  # the subject's industry as the record states it (docs/policy.md §8)
    data: dict[str, Any] = field(default_factory=dict)
    data_json: JsonText | None = None  # `data` as the canonical JSON its content hash is taken of
    content_hash: str = ""
    event_date: dt.date | None = None
    publish_by: dt.date | None = None
    publish_by_estimated: bool = False
    reason: str | None = None


class Rejected(Exception):
    def __init__(self, index: int, source_record_id: str | None, problems: list[FieldProblem]) -> None:
        super().__init__(problems)
        self.index = index
        self.source_record_id = source_record_id
        self.problems = problems


def _problem_from_identifier(err: IdentifierError, field_name: str) -> FieldProblem:
    return FieldProblem(field_name, err.code, str(err), err.suggestion, err.position)


# one encoder for every record (json.dumps with options builds one per call); same output
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(kind: str | None, action: str, subject_key: str | None, data: Mapping[str, Any]) -> str:
    return _hash_of(kind, action, subject_key, _CANONICAL.encode(data))


def _hash_of(kind: str | None, action: str, subject_key: str | None, data_json: str) -> str:
    # the same text as encoding [kind, action, subject_key, data] whole (no spaces between
    # items), with the data's own JSON kept for storage (JsonText: serialized once)
    head = _CANONICAL.encode([kind, action, subject_key])
    return hashlib.sha256(f"{head[:-1]},{data_json}]".encode()).hexdigest()


def prepare(
    index: int,
    raw: Any,
    *,
    calendar: WorkingCalendar,
    deadline_working_days: int = 7,
) -> Prepared:
    """Validate and normalise one record; raise `Rejected` with every problem found."""
    if not isinstance(raw, Mapping):
        raise Rejected(index, None, [FieldProblem("", "not_an_object", "a record must be a JSON object")])
    problems: list[FieldProblem] = unsafe_characters(raw)  # XML-unsafe text (gateway.intake.textsafety)
    source_id = raw.get("source_record_id")
    if not isinstance(source_id, str | int) or isinstance(source_id, bool) or not str(source_id).strip():
        problems.append(FieldProblem("source_record_id", "required", "source_record_id is required"))
        source_id = None
    else:
        source_id = str(source_id).strip()
        if len(source_id) > 128:
            problems.append(FieldProblem("source_record_id", "too_long", "at most 128 characters"))
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(FieldProblem(str(key), "unknown_field", f"unknown field {key!r}"))
    action = raw.get("action") or "publish"
    if action not in ACTIONS:
        problems.append(
            FieldProblem("action", "not_in_code_list", f"action must be one of {', '.join(ACTIONS)}")
        )
    reason = raw.get("reason")
    if reason is not None and not isinstance(reason, str):
        problems.append(FieldProblem("reason", "bad_value", "reason must be text"))
        reason = None

    kind_text = raw.get("kind")
    kind: RecordKind | None = None
    if kind_text is None:
        if action != "withdraw":
            problems.append(FieldProblem("kind", "required", "kind is required"))
    else:
        try:
            kind = RecordKind(kind_text)
        except (ValueError, TypeError):
            problems.append(
                FieldProblem(
                    "kind",
                    "unknown_kind",
                    f"unknown record kind {kind_text!r}; one of {', '.join(RecordKind)}",
                )
            )

    if action == "withdraw":
        if problems:
            raise Rejected(index, source_id, problems)
        return Prepared(
            index=index,
            source_record_id=source_id,
            action="withdraw",
            kind=kind,
            subject_key=None,
            content_hash=content_hash(None, "withdraw", None, {}),
            reason=reason,
        )

    data_raw = raw.get("data")
    model = None
    if kind is not None:
        if data_raw is None:
            problems.append(FieldProblem("data", "required", "data is required"))
        else:
            try:
                model = validate_data(kind, data_raw)
            except RecordInvalid as exc:
                problems.extend(exc.problems)

    # the subject: explicit block, or the 双公示 相对人 fields
    subject_raw = raw.get("subject") or {}
    if not isinstance(subject_raw, Mapping):
        problems.append(FieldProblem("subject", "not_an_object", "subject must be an object"))
        subject_raw = {}
    ids: dict[str, str | None] = {}
    for key in _SUBJECT_KEYS:
        value = subject_raw.get(key)
        if value is None and kind in _XDR_FIELDS and isinstance(data_raw, Mapping):
            src = _XDR_FIELDS[kind].get(key)
            value = data_raw.get(src) if src else None
        if value is not None and not isinstance(value, str):
            value = str(value)
        ids[key] = value.strip() if isinstance(value, str) and value.strip() else None
    for key in subject_raw:
        if key not in _SUBJECT_KEYS:
            problems.append(FieldProblem(f"subject.{key}", "unknown_field", f"unknown subject field {key!r}"))

    identity = None
    if not any(ids[k] for k in ("uscc", "org_code", "reg_no", "id_number")):
        problems.append(
            FieldProblem(
                "subject.uscc", "required", "the subject's USCC (or a legacy identifier) is required"
            )
        )
    else:
        try:
            identity = identify(
                uscc=ids["uscc"], org_code=ids["org_code"], reg_no=ids["reg_no"], id_number=ids["id_number"]
            )
        except IdentifierError as err:
            problems.append(_problem_from_identifier(err, f"subject.{getattr(err, 'field', None) or 'uscc'}"))

    region = raw.get("region")
    if region is not None and (not isinstance(region, str) or len(region) != 6 or not region.isdigit()):
        problems.append(FieldProblem("region", "bad_value", "region is a 6-digit GB/T 2260 division code"))
        region = None

    sector = raw.get("sector")
    if sector is not None and (not isinstance(sector, str) or not _SECTOR.fullmatch(sector)):
        problems.append(FieldProblem("sector", "bad_value", "sector is a lower-case word, e.g. electricity"))
        sector = None

    if problems or model is None or identity is None or kind is None:
        if not problems:  # defensive: every path above that leaves None adds a problem
            problems.append(FieldProblem("", "invalid", "record could not be read"))
        raise Rejected(index, source_id, problems)

    data = to_jsonable(model)
    data_json = JsonText(_CANONICAL.encode(data))
    event_date = model.event_date()
    publish_by, estimated = None, False
    if kind in PUBLISHED_KINDS:
        due = calendar.add_working_days(event_date, deadline_working_days)
        publish_by, estimated = due.date, due.estimated
    if region is None and identity.uscc:
        region = identity.uscc[2:8]
    subject_key = identity.key
    display_id = None
    if identity.category == "natural_person":
        subject_key, display_id = person_key(ids["id_number"] or "")
    return Prepared(
        index=index,
        source_record_id=source_id,
        action="publish",
        kind=kind,
        subject_key=subject_key,
        uscc=identity.uscc,
        org_code=identity.org_code,
        reg_no=identity.reg_no,
        category=identity.category,
        display_id=display_id,
        name=normalize_name(ids["name"]) if ids["name"] else None,
        region=region,
        sector=sector,
        data=data,
        data_json=data_json,
        content_hash=_hash_of(kind.value, "publish", subject_key, data_json),
        event_date=event_date,
        publish_by=publish_by,
        publish_by_estimated=estimated,
        reason=reason,
    )


def person_key(id_number: str) -> tuple[str, str]:
    """A natural person's subject key and display form; the full ID number is never a key.

    The key is a digest so URLs, logs and foreign keys never carry the number itself.
    """
    from gateway.domain.identifiers import idcard

    return idcard.person_key(id_number), idcard.mask(idcard.compact(id_number))
