"""Credit repair (信用修复, docs/policy.md §8, issue 12 rule 5): the subject's application to end
the publication of one of its penalties early, and the decision on it. The only SQL of the
`repair_applications` table.

The rule in force is 国家发展改革委令2023年第58号《失信行为纠正后的信用信息修复管理办法（试行）》
(in force 2023-05-01), which replaced 发改办财金〔2019〕527号 cited by `002` §二(七): an
application is accepted only once the penalty's minimum publication period has passed
(per severity, profile data `publication.repair`), else it is refused with the earliest
day; on approval the penalty's publication is withdrawn everywhere it was sent (a `repair`
item to every destination that received the penalty, through the outbox); at the maximum
it is withdrawn in any case. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from gateway.errors import GatewayError
from gateway.store.policy_tables import repair_applications as ra

OUTCOMES = ("approved", "refused")


class RepairError(GatewayError):
    status, slug, title = 400, "repair-error", "Credit repair error"


class RepairTooEarly(RepairError):
    """The penalty's minimum publication period has not ended; `earliest_repair_on` is the first day."""

    status, slug, title = 422, "repair-too-early", "The minimum publication period has not ended"


class PenaltyNotFound(RepairError):
    status, slug, title = 404, "penalty-not-found", "No such penalty of the subject"


class RepairNotOpen(RepairError):
    """A repair is applied for once per penalty while one is open or approved, and not after the
    publication ended; decided once."""

    status, slug, title = 409, "repair-not-open", "The repair cannot be applied for or decided now"


class RepairNotFound(RepairError):
    status, slug, title = 404, "repair-not-found", "No such repair application"


def view(row: Any) -> dict[str, Any]:
    iso = lambda v: v.isoformat() if v is not None else None  # noqa: E731
    return {"id": row.uid, "record_id": row.record_uid, "state": row.state, "applied_on": iso(row.applied_on),
            "earliest_on": iso(row.earliest_on), "applied_by": row.applied_by, "decided_on": iso(row.decided_on),
            "decided_by": row.decided_by, "note": row.note, "decision_note": row.decision_note,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def get(conn: Connection, uid: str, *, for_update: bool = False) -> Any:
    q = select(ra).where(ra.c.uid == uid)
    if for_update:
        q = q.with_for_update()
    return conn.execute(q).first()


def apply(conn: Connection, subject_id: int, penalty: dict[str, Any], *, actor: str, day: dt.date,
          now: dt.datetime, note: str | None) -> Any:
    """Record the subject's application for the penalty (`penalty`: its entry in the stored
    decisions), or refuse it: too early (with the earliest day), already open or repaired, or
    the publication already ended."""
    record = penalty["record_id"]
    earliest = dt.date.fromisoformat(str(penalty["earliest_repair_on"]))
    ends = dt.date.fromisoformat(str(penalty["publication_ends_on"]))
    if day >= ends:
        raise RepairNotOpen(f"the publication of {record} ended on {ends.isoformat()}; there is nothing to repair",
                            record_id=record, publication_ends_on=ends.isoformat())
    if day < earliest:
        raise RepairTooEarly(f"the minimum publication period of {record} ({penalty['severity']}) ends on "
                             f"{earliest.isoformat()}; apply from that day",
                             record_id=record, earliest_repair_on=earliest.isoformat(), severity=penalty["severity"])
    taken = conn.execute(select(ra.c.uid, ra.c.state).where(
        ra.c.record_uid == record, ra.c.state.in_(("applied", "approved")))).first()
    if taken is not None:
        raise RepairNotOpen(f"repair {taken.uid} of {record} is {taken.state}", record_id=record, repair=taken.uid,
                            state=taken.state)
    uid = "rep_" + uuid.uuid4().hex[:20]
    conn.execute(ra.insert().values(uid=uid, subject_id=subject_id, record_uid=record, state="applied",
                                    applied_on=day, earliest_on=earliest, applied_by=actor, note=note,
                                    created_at=now, updated_at=now))
    return get(conn, uid)


def decide(conn: Connection, row: Any, outcome: str, *, actor: str, day: dt.date, now: dt.datetime,
           note: str | None) -> Any:
    if outcome not in OUTCOMES:
        raise RepairError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if row.state != "applied":
        raise RepairNotOpen(f"repair {row.uid} was already {row.state}", repair=row.uid, state=row.state)
    if day < row.applied_on:
        raise RepairError(f"decided_on {day.isoformat()} is before the application ({row.applied_on.isoformat()})")
    conn.execute(ra.update().where(ra.c.id == row.id).values(state=outcome, decided_on=day, decided_by=actor,
                                                             decision_note=note, updated_at=now))
    return get(conn, row.uid)


def approved_of(conn: Connection, subject_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """Per subject, the penalty record versions whose repair was approved."""
    out: dict[int, set[str]] = {}
    if subject_ids:
        q = select(ra.c.subject_id, ra.c.record_uid).where(ra.c.subject_id.in_(list(subject_ids)),
                                                          ra.c.state == "approved")
        for sid, record in conn.execute(q):
            out.setdefault(sid, set()).add(record)
    return {k: frozenset(v) for k, v in out.items()}


def of_subject(conn: Connection, subject_id: int) -> list[Any]:
    return list(conn.execute(select(ra).where(ra.c.subject_id == subject_id).order_by(ra.c.id)))
