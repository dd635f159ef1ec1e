"""What the audit log may keep of a request: no full ID number, no secret (审计脱敏).

- A resident ID number (GB 11643, 18 characters) anywhere in an entry (its subject, the path,
  the query, the detail) is stored masked (first 6 and last 4 characters, as in the logs), and
  its keyed hash, HMAC-SHA-256 with the gateway's audit secret, goes into `subject_hash` (the
  entry's subject) or `detail.id_hashes` (numbers elsewhere). An operator searching for a
  number (`gateway audit list --subject 5107…`, `GET /v1/audit?subject=…`) is matched by that
  hash. The hash is keyed because an unkeyed digest of the ~10^10 valid numbers is a lookup
  table: without the secret the hash says nothing.
- Query parameters are redacted like headers: a parameter named like a secret (`api_key`,
  `token`, `password`, …) is stored as `[REDACTED]`, and API keys and Bearer tokens inside
  any value keep only their key id.

The secret: `GATEWAY_AUDIT_ID_SECRET`, else the file `audit-id.secret` in the keys directory
(created with 32 random bytes on first use, mode 0600). Changing it makes older entries
unsearchable by number (they stay masked and verifiable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from gateway.logging_setup import REDACTED, SECRET_FIELDS, redact_text

# GB 11643: division (first digit 1-8), birth date 18/19/20yyMMdd, sequence, check character
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])([1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])(?![0-9A-Za-z])"
)
SECRET_FILE = "audit-id.secret"


class IdProtector:
    """Masks ID numbers and computes their keyed hashes (the secret loaded once, when first needed)."""

    def __init__(self, secret: str | None, keys_dir: Path | None) -> None:
        self._given, self._dir = secret, keys_dir
        self._key: bytes | None = secret.encode("utf-8") if secret else None
        self._lock = threading.Lock()

    def key(self) -> bytes | None:
        """The HMAC key; None for a protector with no secret and no keys directory (masks only)."""
        if self._key is None and self._dir is not None:
            with self._lock:
                if self._key is None:
                    self._key = _load_or_create(self._dir / SECRET_FILE)
        return self._key

    def hash_of(self, number: str) -> str | None:
        """The keyed hash of an ID number (upper-case, compact) — what `subject_hash` holds."""
        key = self.key()
        if key is None:
            return None
        compact = re.sub(r"[\s-]", "", number).upper()
        return hmac.new(key, b"idcard:" + compact.encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def search_hash(self, given: str | None) -> str | None:
        """When an operator searches for a full ID number (or person:<number>): its hash."""
        if not given:
            return None
        m = ID_NUMBER.search(given)
        return self.hash_of(m.group(1)) if m and len(re.sub(r"^person:", "", given.strip())) == 18 else None

    def protect(self, subject: str | None, detail: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
        """(masked subject, its keyed hash or None, detail with numbers masked and secrets redacted)."""
        blob = json.dumps(detail, ensure_ascii=False, default=str) + "\x00" + (subject or "")
        if not _suspect(blob):
            return subject, None, detail or {}  # nothing to mask or redact (the common case)
        found: list[str] = []
        subject_hash = None
        if subject:
            m = ID_NUMBER.search(subject)
            if m:
                subject_hash = self.hash_of(m.group(1))
            subject = _mask_text(subject, None)
        clean = _clean(detail or {}, found, None, 0)
        hashes = sorted({self.hash_of(n) for n in found} - {subject_hash, None})
        if hashes:
            clean["id_hashes"] = hashes
        return subject, subject_hash, clean


MASK_ONLY = None  # set below: masks, never hashes (for callers without the gateway's secret)


def _load_or_create(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    return value


# what could need masking or redacting at all: a run of 15+ digits, an API key, a credential
# word or a PEM block; most strings (methods, paths with a USCC, outcomes) have none, and
# skipping them keeps an entry's cleaning at a few microseconds (the audit path is hot)
# (a plain digit pattern and substring tests: one alternation with look-arounds and (?i)
# cost ~50 µs per entry, most of an audit append)
_ID_LIKE = re.compile(r"[1-8]\d{5}(?:18|19|20)\d{2}[01]\d")
_SUSPECT_WORDS = ("gw_", "bearer", "basic", "authorization", "cookie", "private", "pass", "secret", "token",
                  "apikey", "api_key", "api-key", "credential")  # covers SECRET_FIELDS's names too


def _suspect(text: str) -> bool:
    if _ID_LIKE.search(text):
        return True
    low = text.lower()
    return any(w in low for w in _SUSPECT_WORDS)


def _mask_text(text: str, found: list[str] | None) -> str:
    if not _suspect(text):
        return text
    if found is not None:
        found.extend(m.group(1) for m in ID_NUMBER.finditer(text))
    return redact_text(ID_NUMBER.sub(lambda m: m.group(1)[:6] + "********" + m.group(1)[-4:], text))


def _clean(value: Any, found: list[str], key: str | None, depth: int) -> Any:
    if key is not None and SECRET_FIELDS.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return _mask_text(value, found)
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {k: _clean(v, found, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, found, None, depth + 1) for v in value]
    return value


def query_of(scope: dict[str, Any]) -> dict[str, Any]:
    """The request's query parameters (repeated ones as lists), before redaction."""
    from urllib.parse import parse_qsl

    out: dict[str, Any] = {}
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if k in out:
            out[k] = [*out[k], v] if isinstance(out[k], list) else [out[k], v]
        else:
            out[k] = v
    return out


MASK_ONLY = IdProtector(None, None)
