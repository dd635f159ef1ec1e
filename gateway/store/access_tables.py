"""Access tables: partners, their credentials (API keys, client certificates), the
hash-chained audit log with its chain head, and stored eligibility reports.

- `access_partners`: one row per partner organisation (by USCC) with its sector and, for a
  source agency, the agency code it may write for.
- `access_credentials`: API keys (`kind = api_key`, `secret_hash` = SHA-256 of the secret)
  and client certificates (`kind = client_cert`, `secret_hash` = SHA-256 fingerprint of the
  DER certificate), each with scopes, an expiry and a revocation time. A rotated key points at
  its successor and stays valid until its (shortened) expiry: the overlap.
- `audit_log`: append-only; `seq` is gapless, each entry stores the previous entry's hash and
  its own hash over a canonical JSON of its fields.
- `audit_chain`: the single chain-head row (id 1): last sequence number and hash, and the
  checkpoint left by pruning (the hash of the last pruned entry). Appends lock it.
- `eligibility_reports`: the signed XML exactly as returned, fetched later by id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from gateway.store.tables import metadata
from gateway.store.types import JsonDoc, UTCDateTime

access_partners = Table(
    "access_partners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uscc", String(18), nullable=False, unique=True),
    Column("name", String(400), nullable=False),
    Column("sector", String(16), nullable=False),
    Column("agency_code", String(64)),  # sector 'agency': the source agency it writes for
    Column("status", String(16), nullable=False),  # active | revoked
    Column("rate_per_second", Integer),  # overrides the sector's rate limit
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

access_credentials = Table(
    "access_credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("partner_id", Integer, ForeignKey("access_partners.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # api_key | client_cert
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("scopes", JsonDoc, nullable=False),
    Column("label", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("rotated_to", String(32)),  # key id of the successor
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),  # key id, client cert key id, or cli:<user>
    Column("organisation", String(18)),
    Column("sector", String(16)),
    Column("action", String(120), nullable=False),  # operation id or cli command
    Column("purpose", String(64)),
    Column("subject", String(80)),  # an ID number only masked (idmask)
    Column("subject_hash", String(64)),  # HMAC of the subject's ID number, for search (migration 0010)
    Column("outcome", String(64), nullable=False),
    Column("status", Integer),
    Column("request_id", String(64)),
    Column("detail", JsonDoc, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Index("ix_audit_log_actor_seq", "actor", "seq"),
    Index("ix_audit_log_organisation_seq", "organisation", "seq"),
    Index("ix_audit_log_subject_seq", "subject", "seq"),
    Index("ix_audit_log_subject_hash_seq", "subject_hash", "seq"),
    Index("ix_audit_log_at", "at"),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("head_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("pruned_through_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("pruned_hash", String(64), nullable=False),  # checkpoint: hash of the last pruned entry
    Column("pruned_at", UTCDateTime),
)

eligibility_reports = Table(
    "eligibility_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", String(40), nullable=False, unique=True),
    Column("partner_id", Integer, ForeignKey("access_partners.id")),
    Column("key_id", String(32)),
    Column("purpose", String(32), nullable=False),
    Column("reference", String(200)),
    Column("counts", JsonDoc, nullable=False),
    Column("xml", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
