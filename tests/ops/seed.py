"""Seeding the state operators watch, straight into the tables (the ops tests are about
what is shown and done, not how the rows came about)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert, select, update

from gateway.delivery import bulletin_store, outbox
from gateway.store.delivery_tables import delivery_attempts, destination_state, receipt_items, receipts
from gateway.store.policy_tables import list_entries
from gateway.store.tables import agencies, records, subjects
from tests.factories import make_uscc


def subject(db, seq: int, now: dt.datetime, name: str = "绵阳市某化工有限公司") -> int:
    code = make_uscc(seq)
    with db.write() as conn:
        found = conn.execute(select(subjects.c.id).where(subjects.c.key == code)).scalar()
        if found:
            return found
        return conn.execute(insert(subjects).values(key=code, uscc=code, category="legal_person", name=name,
                                                    region="510703", created_at=now, changed_at=now)
                            .returning(subjects.c.id)).scalar_one()


def delivery(db, now: dt.datetime, *, destination: str = "local", state: str = "pending", seq: int = 1,
             error: str | None = None, record_uid: str | None = None, sent_ago: dt.timedelta | None = None,
             attempts: int = 0, durations_ms: tuple[float, ...] = ()) -> str:
    bulletin_id = f"B-{uuid.uuid4().hex[:12]}"
    with db.write() as conn:
        delivery_id = outbox.enqueue_bulletin(
            conn, destination=destination, signed=b"<Bulletin/>", bulletin_id=bulletin_id,
            sequence=outbox.next_sequence(conn, destination), kind="records",
            items=[(f"I-{bulletin_id}", record_uid, make_uscc(seq), "penalty")], now=now - dt.timedelta(hours=1),
        )
        values = {"state": state, "attempts": attempts, "last_error": error, "updated_at": now}
        if sent_ago is not None:
            values["sent_at"] = now - sent_ago
        if state in ("acknowledged", "partially_rejected"):
            values["acknowledged_at"] = now
        conn.execute(update(outbox.deliveries).where(outbox.deliveries.c.delivery_id == delivery_id).values(**values))
        for i, ms in enumerate(durations_ms, 1):
            conn.execute(insert(delivery_attempts).values(
                delivery_id=delivery_id, attempt=i, worker="w1", started_at=now, finished_at=now,
                outcome="failed" if state == "dead" else "accepted", http_status=503 if state == "dead" else 200,
                duration_ms=ms))
    return delivery_id


def reject_item(db, delivery_id: str, now: dt.datetime, code: str = "E_FIELD") -> None:
    with db.write() as conn:
        row = outbox.get_delivery(conn, delivery_id)
        item = bulletin_store.items_of(conn, row.bulletin_id)[0]
        pk = conn.execute(insert(receipts).values(
            delivery_id=delivery_id, receipt_id="R1", received_at=now, signed=b"<Receipt/>", content_hash="h" * 64,
            verified=True, duplicate=False, duplicate_count=0, channel="sync").returning(receipts.c.id)).scalar_one()
        conn.execute(insert(receipt_items).values(receipt_pk=pk, item_id=item.item_id, delivery_id=delivery_id,
                                                  status="rejected", code=code, message="bad field"))


def breaker(db, destination: str, state: str, now: dt.datetime, failures: int = 5) -> None:
    with db.write() as conn:
        conn.execute(insert(destination_state).values(
            destination=destination, state=state, consecutive_failures=failures, opened_at=now,
            probe_at=now + dt.timedelta(seconds=60), last_error="connect timeout", updated_at=now))


def record(db, agency: str, subject_id: int, now: dt.datetime, *, publish_by: dt.date, uid: str | None = None) -> str:
    uid = uid or f"rec_{uuid.uuid4().hex[:16]}"
    with db.write() as conn:
        agency_id = conn.execute(select(agencies.c.id).where(agencies.c.code == agency)).scalar_one()
        conn.execute(insert(records).values(
            uid=uid, subject_id=subject_id, agency_id=agency_id, source_record_id=uid, kind="penalty", version=1,
            status="current", action="publish", content_hash=uuid.uuid4().hex, data={}, region="510703",
            event_date=publish_by - dt.timedelta(days=9), publish_by=publish_by, publish_by_estimated=False,
            received_at=now))
    return uid


def proposed_entry(db, subject_id: int, now: dt.datetime, profile: str = "municipal-2021",
                   list_kind: str = "joint_punishment") -> str:
    uid = f"ent_{uuid.uuid4().hex[:16]}"
    with db.write() as conn:
        conn.execute(insert(list_entries).values(
            uid=uid, subject_id=subject_id, list_kind=list_kind, state="proposed",
            open_key=f"{list_kind}:{uid}", cases=["fatal_accidents_3_in_365"], record_uids=[], reasons=[],
            region="510703", profile=profile, created_at=now, updated_at=now))
    return uid


def entry_state(db, uid: str) -> str:
    with db.read() as conn:
        return conn.execute(select(list_entries.c.state).where(list_entries.c.uid == uid)).scalar_one()


def delivery_state(db, delivery_id: str) -> str:
    with db.read() as conn:
        return outbox.get_delivery(conn, delivery_id).state


def quarantined_change(db, subject_id: int, now: dt.datetime, error: str, attempts: int = 5) -> None:
    """The subject's change set aside after `attempts` failures."""
    from gateway.store.change_tables import subject_changes

    with db.write() as conn:
        conn.execute(insert(subject_changes).values(
            subject_id=subject_id, seq=1, cause="intake", enqueued_at=now - dt.timedelta(hours=1),
            state="quarantined", attempts=attempts, next_attempt_at=now, last_error=error, failed_at=now))


def quarantined_item(db, subject_key: str, now: dt.datetime, error: str, destination: str = "local") -> str:
    """A publication item the bulletin could not carry."""
    from gateway.store.publication_tables import publication_items

    item_id = "itm_" + uuid.uuid4().hex[:12]
    with db.write() as conn:
        conn.execute(insert(publication_items).values(
            item_id=item_id, destination=destination, source_key=f"test:{item_id}", kind="penalty",
            subject=subject_key, fields={}, state="quarantined", created_at=now, error=error, quarantined_at=now))
    return item_id
