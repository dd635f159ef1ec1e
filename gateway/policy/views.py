"""Stored decisions and list entries as JSON (what the API and the CLI show)."""

from __future__ import annotations

from typing import Any

from gateway.domain.policy.lifecycle import allowed_actions


def api_action(action: str) -> str:
    """The API spelling of a lifecycle action (`request_removal` → `request-removal`)."""
    return action.replace("_", "-")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def event_view(row: Any) -> dict[str, Any]:
    return {
        "from_state": row.from_state,
        "action": api_action(row.action),
        "to_state": row.to_state,
        "actor": row.actor,
        **({"acting_for": row.acting_for} if getattr(row, "acting_for", None) else {}),
        "at": _iso(row.at),
        "happened_on": _iso(getattr(row, "happened_on", None)),
        "note": row.note,
        **({"detail": row.detail} if row.detail else {}),
    }


def entry_view(row: Any, events: list[Any] | None = None) -> dict[str, Any]:
    body = {
        "id": row.uid,
        "subject": row.subject_key,
        "subject_name": row.subject_name,
        "list": row.list_kind,
        "state": row.state,
        "open": row.open_key is not None,
        "allowed_actions": [api_action(a) for a in allowed_actions(row.list_kind, row.state)],
        "cases": list(row.cases or []),
        "record_uids": list(row.record_uids or []),
        "region": row.region,
        "profile": row.profile,
        "origin": row.origin_uid,
        "starts_on": _iso(row.starts_on),
        "expires_on": _iso(row.expires_on),
        "removal_window_opens_on": _iso(row.removal_window_opens_on),
        "early_removal_from": _iso(row.early_removal_from),
        "reapply_from": _iso(row.reapply_from),
        "removal_window_flagged_on": _iso(row.removal_window_flagged_on),
        "reapply_window_flagged_on": _iso(row.reapply_window_flagged_on),
        "notified_at": _iso(row.notified_at),
        "argument_deadline": _iso(row.argument_deadline),
        "revision": row.revision or 0,
        "correction_note": row.correction_note,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }
    if events is not None:
        body["reasons"] = list(row.reasons or [])
        body["events"] = [event_view(e) for e in events]
    return body


def reasons_in(body: Any) -> list[dict[str, Any]]:
    """Every distinct reason inside a decision body (dicts carrying `rules` and `entry`)."""
    found: dict[tuple, dict[str, Any]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if {"case", "entry", "rules", "source", "text_zh"} <= value.keys():
                key = (value["case"], value["entry"], tuple(value.get("record_ids") or ()), value["text_zh"])
                found.setdefault(key, value)
                return
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(body)
    return list(found.values())


def decision_view(subject: Any, row: Any, entries: list[Any]) -> dict[str, Any]:
    body = dict(row.body)
    body["as_of"] = row.as_of.isoformat()  # the body is only rewritten when its content changes
    return {
        "subject": subject.key,
        "subject_name": subject.name,
        "profile": row.profile,
        "as_of": row.as_of.isoformat(),
        "computed_at": _iso(row.computed_at),
        "checked_at": _iso(row.checked_at),
        "digest": row.digest,
        "decisions": body,
        "reasons": reasons_in(body),
        "entries": [entry_view(e) for e in entries],
    }


def persons_view(persons: Any, viewer_agency: str | None) -> list[dict[str, Any]]:
    """The responsible persons of a listing (`001` §三(一)6): one per ID number, the number
    masked for everyone but the agency that provided the record naming the person."""
    from gateway.domain.identifiers import idcard

    return [{"key": p.key, "roles": list(p.roles), "name": p.name,
             "id_number": p.id_number if viewer_agency is not None and viewer_agency == p.agency
             else (idcard.mask(p.id_number) if p.id_number else None),
             "record_ids": list(p.record_ids)} for p in persons]
