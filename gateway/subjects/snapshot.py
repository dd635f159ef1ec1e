"""The one loader of a subject's snapshot (主体快照): the subject, every version of its records
and its list entries, read in a few queries for a whole batch of subjects.

The change-feed consumer decides from it, the monthly report and the incentive application
read it; nothing else rebuilds a subject's records for the policy engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from gateway.domain.records import Record, RecordKind
from gateway.domain.standing import EntryFacts
from gateway.store.policy_tables import list_entries
from gateway.store.sql import chunks
from gateway.store.tables import agencies, records, subjects


@dataclass
class Snapshot:
    subject: Any  # the subjects row
    versions: list[Any] = field(default_factory=list)  # every record version, oldest first (with agency_code)
    entries: list[Any] = field(default_factory=list)  # list_entries rows, oldest first

    @property
    def subject_id(self) -> int:
        return self.subject.id

    @property
    def key(self) -> str:
        return self.subject.key

    @cached_property
    def current_records(self) -> list[Record]:
        """The records the policy engine takes: current versions with an event date."""
        sector = getattr(self.subject, "sector", None)
        return [to_record(r, self.subject.key, sector) for r in self.versions
                if r.status == "current" and r.event_date is not None]

    def entry_facts(self) -> list[EntryFacts]:
        return [entry_facts(e) for e in self.entries]


def to_record(row: Any, subject_key: str, subject_sector: str | None = None) -> Record:
    return Record(row.uid, RecordKind(row.kind), subject_key, row.agency_code, row.event_date, row.data, row.version,
                  row.status, row.received_at, getattr(row, "agency_sector", None) or subject_sector)


def entry_facts(row: Any) -> EntryFacts:
    return EntryFacts(
        row.uid, row.list_kind, row.state, tuple(row.cases or ()), tuple(row.record_uids or ()),
        tuple(row.reasons or ()), row.starts_on, row.expires_on, row.removal_window_opens_on, row.early_removal_from,
        row.reapply_from, row.removal_window_flagged_on, row.reapply_window_flagged_on, row.origin_uid,
        row.revision or 0, row.correction_note,
    )


def load_snapshots(conn: Connection, subject_ids: Iterable[int]) -> dict[int, Snapshot]:
    """Snapshots of the subjects that exist among `subject_ids` (three queries per 900)."""
    out: dict[int, Snapshot] = {}
    for part in chunks(sorted(set(subject_ids))):
        for row in conn.execute(select(subjects).where(subjects.c.id.in_(part))):
            out[row.id] = Snapshot(row)
        q = (select(records, agencies.c.code.label("agency_code"), agencies.c.sector.label("agency_sector"))
             .join(agencies, agencies.c.id == records.c.agency_id)
             .where(records.c.subject_id.in_(part)).order_by(records.c.id))
        for row in conn.execute(q):
            out[row.subject_id].versions.append(row)
        for row in conn.execute(select(list_entries).where(list_entries.c.subject_id.in_(part))
                                .order_by(list_entries.c.id)):
            out[row.subject_id].entries.append(row)
    return out


def load_snapshot(conn: Connection, subject_id: int) -> Snapshot | None:
    return load_snapshots(conn, [subject_id]).get(subject_id)
