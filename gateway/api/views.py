"""Shapes of stored rows as the API shows them; masking of natural persons' ID numbers."""

from __future__ import annotations

from typing import Any

from gateway.domain.identifiers import idcard

# fields that may hold a natural person's ID number (GB 11643): masked whenever shown
ID_NUMBER_FIELDS = frozenset({"CF_XDR_ZJHM", "CF_FR_ZJHM", "XK_FR_ZJHM", "XK_XDR_ZJHM", "person_id_number"})


def mask_data(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (idcard.mask(v) if k in ID_NUMBER_FIELDS and isinstance(v, str) else v) for k, v in data.items()}


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def record_version(row: Any, *, agency: str | None = None, subject: str | None = None, reveal: bool = False) -> dict:
    data = dict(row.data or {})
    return {
        "record_id": row.uid,
        "version": row.version,
        "status": row.status,
        "action": row.action,
        "kind": row.kind,
        "agency": agency or getattr(row, "agency_code", None),
        "source_record_id": row.source_record_id,
        "subject": subject or getattr(row, "subject_key", None),
        "supersedes": row.supersedes_uid,
        "event_date": _iso(row.event_date),
        "publish_by": _iso(row.publish_by),
        "publish_by_estimated": bool(row.publish_by_estimated),
        "reason": row.reason,
        "received_at": _iso(row.received_at),
        "data": data if reveal else mask_data(data),
    }


def subject_file(subject: Any, identifiers: list[Any], names: list[Any], rows: list[Any], *, reveal: bool = False) -> dict:
    by_kind: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in rows:
        group = by_kind.setdefault(row.kind, {})
        key = (row.agency_code, row.source_record_id)
        entry = group.setdefault(
            key, {"source_record_id": row.source_record_id, "agency": row.agency_code, "status": row.status, "versions": []}
        )
        entry["versions"].append(record_version(row, subject=subject.key, reveal=reveal))
        if row.status != "superseded":
            entry["status"] = row.status
    return {
        "subject": subject.key,
        "uscc": subject.uscc,
        "category": subject.category,
        "name": subject.name,
        "region": subject.region,
        "display_id": subject.display_id,
        "identifiers": [{"scheme": i.scheme, "value": i.value, "first_seen_at": _iso(i.first_seen_at)} for i in identifiers],
        "names": [{"name": n.name, "first_seen_at": _iso(n.first_seen_at)} for n in names],
        "records": {kind: list(group.values()) for kind, group in sorted(by_kind.items())},
    }
