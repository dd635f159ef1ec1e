"""The intake tables: agencies, subjects with their identifiers and names, versioned records.

Records are versioned per (agency, source record id): every accepted submission is a row;
the newest row of a source record is `current` (or `withdrawn` when the newest submission
was a withdrawal); older rows are `superseded` and point at nothing — the newer row names
the one it supersedes. History is the rows of one source record in version order.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gateway.store.types import JsonDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("uscc", String(18)),
    Column("region", String(6), nullable=False),  # GB/T 2260 division code of its jurisdiction
    Column("level", String(16), nullable=False),  # national | provincial | city | district
    Column("sector", String(32)),  # the industry it supervises (e.g. electricity): sector deadlines
    Column("created_at", UTCDateTime, nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", Integer, primary_key=True),
    # USCC, or reg:<注册号> for a 个体工商户 with the placeholder, or person:<hash> for a person
    Column("key", String(64), nullable=False, unique=True),
    Column("uscc", String(18), unique=True),
    Column("category", String(24), nullable=False),
    Column("name", String(400)),
    Column("region", String(6)),
    Column("display_id", String(32)),  # masked ID number for natural persons
    Column("sector", String(32)),  # the subject's industry (e.g. electricity), as its records state
    Column("created_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),  # last record change: decisions are stale after it
)

subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("scheme", String(16), nullable=False),  # uscc | org_code | reg_no
    Column("value", String(64), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("scheme", "value"),
)

subject_names = Table(
    "subject_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_id", Integer, ForeignKey("subjects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(400), nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("subject_id", "name"),
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(40), nullable=False, unique=True),  # public id, stable across the API
    Column("subject_id", Integer, ForeignKey("subjects.id"), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("source_record_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # current | superseded | withdrawn
    Column("action", String(16), nullable=False),  # publish | withdraw
    Column("supersedes_uid", String(40)),
    Column("content_hash", String(64), nullable=False),
    Column("data", JsonDoc, nullable=False),
    Column("region", String(6)),
    Column("event_date", Date),
    Column("publish_by", Date),  # 双公示 deadline: decision date + N working days
    Column("publish_by_estimated", Boolean, nullable=False, default=False),
    Column("reason", Text),  # why it was withdrawn or corrected
    Column("batch_id", String(40)),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("agency_id", "source_record_id", "version"),
    Index("ix_records_subject_status_kind", "subject_id", "status", "kind"),
    Index("ix_records_agency_source_status", "agency_id", "source_record_id", "status"),
    Index("ix_records_publish_by", "status", "publish_by"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("agency_id", Integer, ForeignKey("agencies.id"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JsonDoc, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

deployment_state = Table(
    "deployment_state",
    metadata,
    Column("key", String(64), primary_key=True),  # e.g. policy_profile
    Column("value", JsonDoc, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
