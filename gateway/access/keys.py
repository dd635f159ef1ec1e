"""Partners and their credentials: API keys and client certificates (访问凭证).

An API key is `gw_<key id>_<secret>`: the key id (12 hex digits) names the row, the secret
is 32 random bytes (URL-safe base64). Only SHA-256 of the whole key is stored, and the key
is shown once, when issued.

Why SHA-256 and not bcrypt/argon2: those are deliberately slow so that a stolen table of
*password* hashes cannot be searched with guesses; a password has perhaps 30-40 bits of
entropy. A 256-bit random secret cannot be guessed whatever the hash costs (2^255 tries on
average), so a slow hash would add nothing against theft of the table, while it would cost
50-300 ms of CPU on every request and hand anyone who sends bogus keys a cheap way to burn
it. A fast, constant-time compared SHA-256 is the right tool for high-entropy tokens.

Each credential has scopes; a partner has a sector, and the scopes a sector may hold are
fixed here (`SECTOR_SCOPES`): whatever a row says, a request acts with the intersection, so
no edit of the table can let a bank write records or a platform act on list entries.

Rotation: `rotate` issues a successor with the same scopes and shortens the old key's expiry
to now + overlap; both work during the overlap, then only the new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from gateway.domain.identifiers import IdentifierError, uscc
from gateway.store.access_tables import access_credentials as creds
from gateway.store.access_tables import access_partners as partners

SECTORS = ("finance", "insurance", "land", "securities", "approval", "trading", "platform", "agency", "operator")
PARTNER_SECTORS = ("finance", "insurance", "land", "securities", "approval", "trading")

SCOPES: dict[str, str] = {
    "credit:read": "a subject's current credit status, as the caller's sector may see it",
    "eligibility:check": "check bidders' eligibility; fetch the signed reports",
    "records:write": "submit records (an agency key: its own agency's only)",
    "records:read": "read records by id",
    "subjects:read": "merged credit files",
    "agencies:read": "the registered source agencies",
    "decisions:read": "the policy engine's decisions for a subject",
    "list-entries:read": "list entries and their history",
    "list-entries:write": "act on list entries (operators)",
    "objections:answer": "answer objections to listings resting on the agency's own records (谁提供、谁负责)",
    "deliveries:read": "deliveries and their attempts",
    "deliveries:write": "requeue deliveries (operators)",
    "rejected-items:read": "items destinations rejected (an agency key: its own)",
    "bulletins:read": "signed bulletins and evidence bundles",
    "receipts:write": "post a destination's signed receipt",
    "audit:read": "the audit log (operators)",
    "watchlists:read": "a finance or insurance partner's own watchlists and their changes",
    "watchlists:write": "register and change a finance or insurance partner's own watchlists",
}

_PARTNER = frozenset({"credit:read", "eligibility:check"})
SECTOR_SCOPES: dict[str, frozenset[str]] = {
    **{s: _PARTNER for s in PARTNER_SECTORS},
    **{s: _PARTNER | {"watchlists:read", "watchlists:write"} for s in ("finance", "insurance")},  # 贷后监控
    "platform": frozenset({"credit:read", "agencies:read", "bulletins:read", "receipts:write"}),
    "agency": frozenset({"credit:read", "eligibility:check", "records:write", "records:read", "subjects:read",
                         "agencies:read", "decisions:read", "list-entries:read", "rejected-items:read",
                         "objections:answer"}),
    "operator": frozenset(SCOPES),
}

KEY_PREFIX = "gw_"


class AccessError(ValueError):
    """A partner or key operation cannot be done (the message says why)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the credential, its partner and what it may do."""

    key_id: str
    kind: str  # api_key | client_cert | development
    partner_id: int | None
    organisation: str | None  # the partner's USCC
    name: str
    sector: str
    agency_code: str | None
    scopes: frozenset[str]
    expires_at: dt.datetime | None = None
    rate_per_second: float | None = None  # the partner's own limit, overriding its sector's
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_operator(self) -> bool:
        return self.sector == "operator"

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    def token_info(self) -> dict[str, Any]:
        """What connexion keeps in the request context."""
        return {"sub": self.key_id, "principal": self, "scope": sorted(self.scopes)}


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_key_id() -> str:
    return secrets.token_hex(6)


def make_token(key_id: str) -> str:
    return f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_token(token: str) -> str | None:
    """The key id of a well-formed key, else None."""
    token = token.strip()
    if not token.startswith(KEY_PREFIX):
        return None
    parts = token[len(KEY_PREFIX):].split("_", 1)
    if len(parts) != 2 or len(parts[0]) != 12 or len(parts[1]) < 40:
        return None
    try:
        int(parts[0], 16)
    except ValueError:
        return None
    return parts[0]


def check_scopes(sector: str, scopes: Iterable[str]) -> list[str]:
    if sector not in SECTOR_SCOPES:
        raise AccessError(f"unknown sector {sector!r}; one of {', '.join(SECTORS)}")
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise AccessError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    refused = [s for s in wanted if s not in SECTOR_SCOPES[sector]]
    if refused:
        raise AccessError(f"sector {sector} may not hold {', '.join(refused)} (it may hold {', '.join(sorted(SECTOR_SCOPES[sector]))})")
    return wanted


# --- partners ------------------------------------------------------------------------------


def add_partner(conn: Connection, *, uscc_code: str, name: str, sector: str, now: dt.datetime,
                agency_code: str | None = None, rate_per_second: int | None = None) -> int:
    try:
        code = uscc.validate(uscc_code)
    except IdentifierError as exc:
        raise AccessError(f"partner USCC {uscc_code!r}: {exc}") from None
    if sector not in SECTORS:
        raise AccessError(f"unknown sector {sector!r}; one of {', '.join(SECTORS)}")
    if sector == "agency" and not agency_code:
        raise AccessError("an agency partner needs --agency (the source agency code it writes for)")
    if sector != "agency" and agency_code:
        raise AccessError("only sector agency is linked to an agency code")
    if conn.execute(select(partners.c.id).where(partners.c.uscc == code)).first():
        raise AccessError(f"partner {code} exists")
    return conn.execute(partners.insert().values(
        uscc=code, name=name, sector=sector, agency_code=agency_code, status="active",
        rate_per_second=rate_per_second, created_at=now)).inserted_primary_key[0]


def get_partner(conn: Connection, uscc_code: str) -> Any:
    row = conn.execute(select(partners).where(partners.c.uscc == uscc_code.strip().upper())).first()
    if row is None:
        raise AccessError(f"no partner {uscc_code}")
    return row


def list_partners(conn: Connection) -> list[Any]:
    return list(conn.execute(select(partners).order_by(partners.c.sector, partners.c.uscc)))


def revoke_partner(conn: Connection, uscc_code: str, now: dt.datetime) -> int:
    """Revoke the partner and every credential it holds; returns how many credentials."""
    row = get_partner(conn, uscc_code)
    conn.execute(update(partners).where(partners.c.id == row.id).values(status="revoked", revoked_at=now))
    ids = [r.key_id for r in conn.execute(select(creds.c.key_id).where(creds.c.partner_id == row.id, creds.c.revoked_at.is_(None)))]
    conn.execute(update(creds).where(creds.c.partner_id == row.id, creds.c.revoked_at.is_(None)).values(revoked_at=now))
    CACHE.forget(*ids)
    return len(ids)


# --- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once
    expires_at: dt.datetime
    scopes: tuple[str, ...]


def issue_key(conn: Connection, *, partner_uscc: str, now: dt.datetime, days: int = 365,
              scopes: Iterable[str] | None = None, label: str | None = None,
              expires_at: dt.datetime | None = None) -> IssuedKey:
    partner = get_partner(conn, partner_uscc)
    if partner.status != "active":
        raise AccessError(f"partner {partner.uscc} is {partner.status}")
    granted = check_scopes(partner.sector, SECTOR_SCOPES[partner.sector] if scopes is None else scopes)
    if not granted:
        raise AccessError("a key needs at least one scope")
    key_id = new_key_id()
    token = make_token(key_id)
    expires = expires_at or now + dt.timedelta(days=days)
    conn.execute(creds.insert().values(
        key_id=key_id, partner_id=partner.id, kind="api_key", secret_hash=hash_secret(token), scopes=granted,
        label=label, created_at=now, expires_at=expires))
    return IssuedKey(key_id, token, expires, tuple(granted))


def bind_certificate(conn: Connection, *, partner_uscc: str, fingerprint: str, now: dt.datetime,
                     expires_at: dt.datetime, scopes: Iterable[str] | None = None, label: str | None = None) -> str:
    """Map a client certificate (its SHA-256 fingerprint) to a partner; returns the credential id."""
    partner = get_partner(conn, partner_uscc)
    granted = check_scopes(partner.sector, SECTOR_SCOPES[partner.sector] if scopes is None else scopes)
    fp = fingerprint.replace(":", "").lower()
    if len(fp) != 64:
        raise AccessError("a certificate fingerprint is 64 hex digits (SHA-256 of the DER certificate)")
    key_id = "c" + fp[:11]
    conn.execute(creds.insert().values(
        key_id=key_id, partner_id=partner.id, kind="client_cert", secret_hash=fp, scopes=granted,
        label=label, created_at=now, expires_at=expires_at))
    return key_id


def get_credential(conn: Connection, key_id: str) -> Any:
    row = conn.execute(select(creds).where(creds.c.key_id == key_id)).first()
    if row is None:
        raise AccessError(f"no key {key_id}")
    return row


def list_credentials(conn: Connection, partner_uscc: str | None = None) -> list[Any]:
    q = (select(creds, partners.c.uscc, partners.c.sector, partners.c.name)
         .join(partners, partners.c.id == creds.c.partner_id).order_by(partners.c.uscc, creds.c.created_at))
    if partner_uscc:
        q = q.where(partners.c.uscc == partner_uscc.strip().upper())
    return list(conn.execute(q))


def revoke_key(conn: Connection, key_id: str, now: dt.datetime) -> None:
    row = get_credential(conn, key_id)
    if row.revoked_at is not None:
        raise AccessError(f"key {key_id} was revoked at {row.revoked_at.isoformat()}")
    conn.execute(update(creds).where(creds.c.id == row.id).values(revoked_at=now))
    CACHE.forget(key_id)


def rotate_key(conn: Connection, key_id: str, now: dt.datetime, *, overlap: dt.timedelta,
               days: int = 365) -> IssuedKey:
    """A successor with the same scopes; the old key keeps working for `overlap`, then ends."""
    old = get_credential(conn, key_id)
    if old.kind != "api_key":
        raise AccessError(f"{key_id} is not an API key")
    if old.revoked_at is not None or old.expires_at <= now:
        raise AccessError(f"key {key_id} is no longer valid; issue a new one")
    if old.rotated_to:
        raise AccessError(f"key {key_id} was already rotated to {old.rotated_to}")
    partner = conn.execute(select(partners).where(partners.c.id == old.partner_id)).one()
    new = issue_key(conn, partner_uscc=partner.uscc, now=now, days=days, scopes=old.scopes, label=old.label)
    conn.execute(update(creds).where(creds.c.id == old.id).values(
        expires_at=min(old.expires_at, now + overlap), rotated_to=new.key_id))
    CACHE.forget(key_id)
    return new


# --- verification --------------------------------------------------------------------------


class _Cache:
    """Credential rows by key id (or fingerprint), trusted for a few seconds per process.

    Revocation in this process forgets the row at once; other processes see it within
    `key_cache_seconds`. Expiry is checked against the clock on every request regardless."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, ttl: float) -> Any | None:
        hit = self._rows.get(key)
        if hit is None or ttl <= 0 or time.monotonic() - hit[0] > ttl:
            return None
        return hit[1]

    def put(self, key: str, row: Any) -> None:
        with self._lock:
            if len(self._rows) > 10_000:
                self._rows.clear()
            self._rows[key] = (time.monotonic(), row)

    def forget(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._rows.pop(k, None)
            # certificate rows are cached by fingerprint: drop those too
            for k in [k for k, (_, row) in self._rows.items() if row is not None and row.key_id in keys]:
                self._rows.pop(k, None)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


CACHE = _Cache()

_CRED_COLUMNS = (creds.c.key_id, creds.c.kind, creds.c.secret_hash, creds.c.scopes, creds.c.expires_at,
                 creds.c.revoked_at, partners.c.id.label("partner_id"), partners.c.uscc, partners.c.name,
                 partners.c.sector, partners.c.agency_code, partners.c.status.label("partner_status"),
                 partners.c.rate_per_second)


def _load(conn: Connection, column, value: str) -> Any | None:  # noqa: ANN001
    return conn.execute(select(*_CRED_COLUMNS).join(partners, partners.c.id == creds.c.partner_id)
                        .where(column == value)).first()


class Refused(Exception):
    """The credential is not acceptable; `reason` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _principal(row: Any, now: dt.datetime) -> Principal:
    if row.revoked_at is not None:
        raise Refused("key_revoked", "the key was revoked")
    if row.expires_at <= now:
        raise Refused("key_expired", f"the key expired at {row.expires_at.isoformat()}")
    if row.partner_status != "active":
        raise Refused("partner_revoked", "the partner's access was revoked")
    scopes = frozenset(row.scopes or ()) & SECTOR_SCOPES.get(row.sector, frozenset())
    return Principal(row.key_id, row.kind, row.partner_id, row.uscc, row.name, row.sector, row.agency_code,
                     scopes, row.expires_at, row.rate_per_second)


def verify_token(db: Any, token: str, now: dt.datetime, cache_seconds: float = 5.0,
                 *, cache_only: bool = False) -> Principal | None:
    """The principal of `token`; raises Refused. With `cache_only`, None instead of asking
    the database (so the event loop can answer cache hits without a thread hop)."""
    key_id = parse_token(token)
    if key_id is None:
        raise Refused("key_malformed", "not a gateway API key (gw_<key id>_<secret>)")
    row = CACHE.get(key_id, cache_seconds)
    if row is None:
        if cache_only:
            return None
        with db.read() as conn:
            row = _load(conn, creds.c.key_id, key_id)
        if row is None:
            raise Refused("key_unknown", "no such key")
        CACHE.put(key_id, row)
    if row.kind != "api_key" or not hmac.compare_digest(row.secret_hash, hash_secret(token.strip())):
        raise Refused("key_unknown", "no such key")
    return _principal(row, now)


def verify_fingerprint(db: Any, fingerprint: str, now: dt.datetime, cache_seconds: float = 5.0) -> Principal:
    cache_key = "fp:" + fingerprint
    row = CACHE.get(cache_key, cache_seconds)
    if row is None:
        with db.read() as conn:
            row = _load(conn, creds.c.secret_hash, fingerprint)
        if row is None or row.kind != "client_cert":
            raise Refused("certificate_unknown", "the client certificate is not bound to a partner")
        CACHE.put(cache_key, row)
    return _principal(row, now)
