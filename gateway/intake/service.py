"""Record intake: the use case behind `POST /v1/records`, `:batch`, `:import` and `gateway import`.

One batch is one transaction: valid records are stored even when others in the batch are
rejected, and a crash part-way leaves nothing half-written. The same transaction puts every
subject whose records changed into the change feed (`gateway.changes.feed`), so what follows
(decisions, lists, the standing, publication) is decided for each of them exactly once, by
the feed's consumer, even across a crash. Each record is idempotent per
(source agency, source record id): the same content again is a `duplicate`; different
content is a new version that `supersedes` the old one; a withdrawal retracts it.
A whole request is also idempotent by its `Idempotency-Key`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from gateway import deadlines
from gateway.changes import feed
from gateway.clock import Clock
from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.profile import Profile
from gateway.domain.policy.repair import publish_by_day
from gateway.domain.record_fields import FieldProblem
from gateway.errors import GatewayError
from gateway.intake import repository as repo
from gateway.intake.prepare import Prepared, Rejected, prepare
from gateway.store.db import Database

log = logging.getLogger(__name__)


class IntakeError(GatewayError):
    """A request-level failure (not one record's)."""

    status, slug, title = 422, "intake-error", "Intake error"


class UnknownAgency(IntakeError):
    status, slug, title = 422, "unknown-agency", "Unknown agency"


class IdempotencyKeyReused(IntakeError):
    status, slug, title = 409, "idempotency-key-reused", "Idempotency key reused"


@dataclass
class Outcome:
    index: int
    source_record_id: str | None
    outcome: str  # accepted | duplicate | superseded | rejected
    record_id: str | None = None
    version: int | None = None
    status: str | None = None  # current | withdrawn
    subject: str | None = None
    publish_by: str | None = None
    publish_by_estimated: bool | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # the fields as they are (dataclasses.asdict deep-copies every value: a tenth of an upload's time)
        return {k: v for k, v in vars(self).items() if v is not None and (k != "problems" or v)}


@dataclass
class IntakeResult:
    batch_id: str
    outcomes: list[Outcome]
    replayed: bool = False

    def counts(self) -> dict[str, int]:
        counts = {"accepted": 0, "duplicate": 0, "superseded": 0, "rejected": 0}
        for o in self.outcomes:
            counts[o.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "counts": self.counts(),
            "results": [o.to_dict() for o in self.outcomes],
        }


def _problems(problems: Sequence[FieldProblem]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(p).items() if v is not None} for p in problems]


def request_hash(agency: str, records: Any) -> str:
    body = json.dumps([agency, records], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class IntakeService:
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    deadline_working_days: int = 7  # only without a profile (tests of intake alone)
    # the deployment's policy profile: `publish_by` follows its deadlines, for the sector of
    # the submitting agency or of the subject, the stricter governing (docs/policy.md §8)
    profile: Profile | None = None

    def submit(
        self, agency_code: str, raw_records: Sequence[Any], *, idempotency_key: str | None = None
    ) -> IntakeResult:
        prepared: list[Prepared] = []
        rejected: list[Outcome] = []
        for index, raw in enumerate(raw_records):
            try:
                prepared.append(
                    prepare(
                        index, raw, calendar=self.calendar, deadline_working_days=self.deadline_working_days
                    )
                )
            except Rejected as exc:
                rejected.append(
                    Outcome(index, exc.source_record_id, "rejected", problems=_problems(exc.problems))
                )
        req_hash = request_hash(agency_code, raw_records) if idempotency_key else ""
        for attempt in range(3):  # concurrent writers of the same source record: retry on the unique key
            try:
                return self._store(agency_code, prepared, rejected, idempotency_key, req_hash)
            except IntegrityError:
                if attempt == 2 or self.db.is_sqlite:
                    raise
        raise AssertionError("unreachable")

    def issuer_of(self, agency_code: str) -> tuple[str, str | None] | None:
        """The agency's registered name and USCC (None for an unknown agency: submit says so)."""
        with self.db.read() as conn:
            agency = repo.get_agency(conn, agency_code)
        return None if agency is None else (agency.name, agency.uscc)

    def _store(
        self,
        agency_code: str,
        prepared: list[Prepared],
        rejected: list[Outcome],
        idempotency_key: str | None,
        req_hash: str,
    ) -> IntakeResult:
        now = self.clock.now()
        outcomes: dict[int, Outcome] = {o.index: o for o in rejected}
        with self.db.write() as conn:
            agency = repo.get_agency(conn, agency_code)
            if agency is None:
                raise UnknownAgency(f"agency {agency_code!r} is not registered (gateway agencies add)")
            if idempotency_key:
                seen = repo.get_idempotent(conn, agency.id, idempotency_key)
                if seen is not None:
                    if seen.request_hash != req_hash:
                        raise IdempotencyKeyReused(
                            f"Idempotency-Key {idempotency_key!r} was used for a different request"
                        )
                    stored = seen.response
                    # the stored answer leaves out empty fields (`Outcome.to_dict`): a record
                    # rejected before it had a source id has none to give back
                    return IntakeResult(stored["batch_id"], [Outcome(**{"source_record_id": None, **o})
                                                             for o in stored["results"]], replayed=True)
            batch_id = repo.new_uid("bat")
            latest = {
                k: dict(v._mapping)
                for k, v in repo.latest_versions(
                    conn, agency.id, [p.source_record_id for p in prepared]
                ).items()
            }
            publishing = [p for p in prepared if p.action == "publish"]
            subject_ids, known_subjects = repo.resolve_subjects(conn, publishing, now)
            repo.set_subject_sectors(conn, {subject_ids[p.subject_key]: p.sector for p in publishing if p.sector})
            prepared = self._deadlines(conn, prepared, agency, subject_ids)
            new_rows: list[dict[str, Any]] = []
            superseded_ids: list[int] = []
            seen_subjects: list[tuple[int, Prepared]] = []
            changed: set[int] = set()
            for p in prepared:
                prev = latest.get(p.source_record_id)
                if p.action == "withdraw":
                    outcome = self._withdraw(
                        p, prev, agency.id, batch_id, now, new_rows, superseded_ids, latest
                    )
                else:
                    outcome = self._publish(
                        p,
                        prev,
                        agency.id,
                        subject_ids[p.subject_key],
                        batch_id,
                        now,
                        new_rows,
                        superseded_ids,
                        latest,
                    )
                    if outcome.outcome in ("accepted", "superseded"):
                        seen_subjects.append((subject_ids[p.subject_key], p))
                if outcome.outcome in ("accepted", "superseded"):
                    changed.add(latest[p.source_record_id]["subject_id"])
                outcomes[p.index] = outcome
            repo.insert_records(conn, new_rows)
            repo.mark_superseded(conn, [i for i in superseded_ids if i is not None])
            repo.record_identifiers_and_names(conn, seen_subjects, now, known_subjects)
            repo.touch_subjects(conn, changed - {sid for sid, _ in seen_subjects}, now)  # withdrawals
            feed.enqueue(conn, changed, now, "intake")
            result = IntakeResult(batch_id, [outcomes[i] for i in sorted(outcomes)])
            if idempotency_key:
                repo.save_idempotent(conn, agency.id, idempotency_key, req_hash, 200, result.to_dict(), now)
            # the client was answered 503 at the deadline: roll back, so that answer is true
            deadlines.check(f"this batch of {len(prepared):,} records was rolled back, none stored; send it again "
                            "(a record already stored answers duplicate), or in smaller parts")
        return result

    def _deadlines(self, conn, prepared: list[Prepared], agency, subject_ids: dict[str, int]) -> list[Prepared]:
        """`publish_by` from the profile: every deadline that applies to the record's sector
        (the agency's, else the subject's), the earliest governing."""
        if self.profile is None:
            return prepared
        due = [p for p in prepared if p.action == "publish" and p.publish_by is not None and p.kind is not None]
        if not due:
            return prepared
        sectors = repo.subject_sectors(conn, {subject_ids[p.subject_key] for p in due})
        days: dict[tuple[Any, ...], tuple[Any, bool]] = {}  # a file's rows share few (kind, day, sector)
        out = []
        for p in prepared:
            if p.action == "publish" and p.publish_by is not None and p.kind is not None:
                sector = agency.sector or p.sector or sectors.get(subject_ids[p.subject_key])
                key = (p.kind, p.event_date, sector)
                found = days.get(key)
                if found is None:
                    found = days[key] = publish_by_day(p.kind.value, p.event_date, self.profile, self.calendar,
                                                       sector)
                if found != (p.publish_by, p.publish_by_estimated):
                    p = replace(p, publish_by=found[0], publish_by_estimated=found[1])
            out.append(p)
        return out

    @staticmethod
    def _row(
        p: Prepared, agency_id: int, subject_id: int, version: int, status: str, batch_id: str, now, prev
    ) -> dict:
        return {
            "uid": repo.new_uid("rec"),
            "subject_id": subject_id,
            "agency_id": agency_id,
            "source_record_id": p.source_record_id,
            "kind": (p.kind.value if p.kind else prev["kind"]),
            "version": version,
            "status": status,
            "action": p.action,
            "supersedes_uid": prev["uid"] if prev else None,
            "content_hash": p.content_hash,
            "data": p.data if p.data_json is None else p.data_json,
            "region": p.region,
            "event_date": p.event_date,
            "publish_by": p.publish_by,
            "publish_by_estimated": p.publish_by_estimated,
            "reason": p.reason,
            "batch_id": batch_id,
            "received_at": now,
        }

    def _publish(
        self, p, prev, agency_id, subject_id, batch_id, now, new_rows, superseded_ids, latest
    ) -> Outcome:
        if prev is not None and prev["status"] == "current" and prev["content_hash"] == p.content_hash:
            return Outcome(
                p.index,
                p.source_record_id,
                "duplicate",
                prev["uid"],
                prev["version"],
                "current",
                p.subject_key,
            )
        if prev is not None and prev["kind"] != p.kind.value:
            problem = FieldProblem(
                "kind",
                "kind_mismatch",
                f"source record {p.source_record_id!r} is a {prev['kind']}; a correction keeps the kind",
            )
            return Outcome(p.index, p.source_record_id, "rejected", problems=_problems([problem]))
        version = prev["version"] + 1 if prev else 1
        row = self._row(p, agency_id, subject_id, version, "current", batch_id, now, prev)
        self._supersede(prev, new_rows, superseded_ids)
        new_rows.append(row)
        latest[p.source_record_id] = {**row, "id": None, "row": row}
        outcome = "superseded" if prev is not None and prev["status"] == "current" else "accepted"
        return Outcome(
            p.index,
            p.source_record_id,
            outcome,
            row["uid"],
            version,
            "current",
            p.subject_key,
            p.publish_by.isoformat() if p.publish_by else None,
            p.publish_by_estimated if p.publish_by else None,
        )

    def _withdraw(self, p, prev, agency_id, batch_id, now, new_rows, superseded_ids, latest) -> Outcome:
        if prev is None:
            problem = FieldProblem(
                "source_record_id",
                "unknown_record",
                f"no record {p.source_record_id!r} of this agency to withdraw",
            )
            return Outcome(p.index, p.source_record_id, "rejected", problems=_problems([problem]))
        if prev["status"] == "withdrawn":
            return Outcome(
                p.index, p.source_record_id, "duplicate", prev["uid"], prev["version"], "withdrawn"
            )
        if p.kind is not None and p.kind.value != prev["kind"]:
            problem = FieldProblem(
                "kind", "kind_mismatch", f"source record {p.source_record_id!r} is a {prev['kind']}"
            )
            return Outcome(p.index, p.source_record_id, "rejected", problems=_problems([problem]))
        row = self._row(
            p, agency_id, prev["subject_id"], prev["version"] + 1, "withdrawn", batch_id, now, prev
        )
        row["data"] = {}
        self._supersede(prev, new_rows, superseded_ids)
        new_rows.append(row)
        latest[p.source_record_id] = {**row, "id": None, "row": row}
        return Outcome(p.index, p.source_record_id, "accepted", row["uid"], row["version"], "withdrawn")

    @staticmethod
    def _supersede(prev, new_rows, superseded_ids) -> None:
        if prev is None:
            return
        if prev.get("row") is not None:  # written earlier in this same batch
            prev["row"]["status"] = "superseded"
        else:
            superseded_ids.append(prev["id"])
