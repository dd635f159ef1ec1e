"""Stored star steps (`star_steps`, `003` §七): the only SQL of `gateway.policy.star_steps`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from gateway.store.policy_tables import star_steps


def steps_of(conn: Connection, subject_id: int) -> list[Any]:
    return list(conn.execute(select(star_steps).where(star_steps.c.subject_id == subject_id)
                             .order_by(star_steps.c.id)))


def insert_step(conn: Connection, *, uid: str, subject_id: int, step: str, decided_on: dt.date,
                deadline: dt.date | None, reason: str, basis: dict[str, Any], actor: str, at: dt.datetime) -> None:
    conn.execute(star_steps.insert().values(uid=uid, subject_id=subject_id, step=step, decided_on=decided_on,
                                            deadline=deadline, reason=reason, basis=basis, actor=actor, at=at))
