"""Signed checkpoints of the audit chain, kept outside the database (审计锚点).

The hash chain alone proves that entries were not edited in place; it cannot prove that a
database writer did not delete the newest entries and fix the chain head, recompute the
whole chain after a rewrite, delete a prefix and mark it "pruned", or wipe the log. So the
gateway also writes, to an append-only file outside the database
(`GATEWAY_AUDIT_CHECKPOINT_FILE`, default `var/audit-checkpoints.jsonl`), a signed line:

- `head`: the chain head (`seq`, `hash`, `at`) every `GATEWAY_AUDIT_CHECKPOINT_EVERY`
  entries or when `GATEWAY_AUDIT_CHECKPOINT_MINUTES` have passed since the last one;
- `prune`: before a retention prune commits, the mark it leaves (`pruned_through_seq`,
  `pruned_hash`), so a prune the gateway did not do is told apart from a legitimate one.

Each line is canonical JSON of its fields, signed with the gateway's active signing key
(RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256; `key_id` names the key, `signature` is base64).
`verify` (below) checks every line's signature against the keyring and the database against
the lines, and names each attack: `truncated`, `rewritten`, `prefix-deleted`, `wiped`,
`checkpoint-forged`. Entries after the newest checkpoint are protected by the chain only
(at most N entries or M minutes): the window an operator sets.

Writers in several processes share the file: a line is appended under an exclusive `flock`,
after re-reading the last line, and only when it is newer (the file's `seq` never goes back).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

RETRY_AFTER_FAILURE = dt.timedelta(seconds=60)
SIGNED_FIELDS = ("kind", "seq", "hash", "at", "pruned_through_seq", "pruned_hash", "key_id")


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _payload(line: dict[str, Any]) -> bytes:
    doc = {k: line.get(k) for k in SIGNED_FIELDS}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_line(key: Any, line: dict[str, Any]) -> dict[str, Any]:
    """`line` with `key_id` and `signature` (key: a gateway.signing.keys.SigningKey)."""
    line = {**line, "key_id": key.key_id}
    data = _payload(line)
    if isinstance(key.private_key, rsa.RSAPrivateKey):
        sig = key.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        sig = key.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    return {**line, "signature": base64.b64encode(sig).decode("ascii")}


def signature_ok(line: dict[str, Any], certificates: dict[str, Any]) -> bool:
    """Whether `line` is signed by one of `certificates` (key id → x509 certificate)."""
    cert = certificates.get(line.get("key_id"))
    if cert is None:
        return False
    try:
        sig = base64.b64decode(str(line.get("signature") or ""), validate=True)
        public = cert.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(sig, _payload(line), padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(sig, _payload(line), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --- the file ----------------------------------------------------------------------------


def read_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Every checkpoint line in file order, and how many lines could not be parsed."""
    if not path.exists():
        return [], 0
    lines, unreadable = [], 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            unreadable += 1
            continue
        if isinstance(value, dict):
            lines.append(value)
        else:
            unreadable += 1
    return lines, unreadable


def _last_head(handle: Any) -> dict[str, Any] | None:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - 65536))
    for raw in reversed(handle.read().decode("utf-8", "replace").splitlines()):
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("kind") == "head":
            return value
    return None


class Checkpointer:
    """Writes signed checkpoints for one process (thread-safe; several processes may share the file)."""

    def __init__(self, path: Path, signing_key: Callable[[], Any], every: int, minutes: float) -> None:
        self.path, self.signing_key, self.every, self.minutes = path, signing_key, every, minutes
        self._lock = threading.Lock()
        self._last: tuple[int, dt.datetime] | None = None  # (seq, at) of the newest head line seen
        self._failed_until: dt.datetime | None = None  # after a failed write, wait before trying again

    def _append(self, line: dict[str, Any], *, write_if: Callable[[dict[str, Any] | None], bool] | None = None) -> bool:
        """Append `line` signed, under the file lock; with `write_if`, only when it holds for the
        newest head line in the file (re-read under the lock: another process may have written)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        signed = sign_line(self.signing_key(), line)
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = _last_head(handle)
                if last is not None:
                    self._last = (int(last["seq"]), dt.datetime.fromisoformat(last["at"]))
                if write_if is not None and not write_if(last):
                    return False
                handle.seek(0, os.SEEK_END)
                handle.write(json.dumps(signed, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return True

    def _seen(self) -> tuple[int, dt.datetime] | None:
        if self._last is None and self.path.exists():
            with open(self.path, "rb") as handle:
                last = _last_head(handle)
            if last is not None:
                self._last = (int(last["seq"]), dt.datetime.fromisoformat(last["at"]))
        return self._last

    def _due_after(self, seen: tuple[int, dt.datetime] | None, seq: int, now: dt.datetime) -> bool:
        if seen is None:
            return seq > 0
        last_seq, last_at = seen
        return seq > last_seq and (seq - last_seq >= self.every or now - last_at >= dt.timedelta(minutes=self.minutes))

    def due(self, seq: int, now: dt.datetime) -> bool:
        return self._due_after(self._seen(), seq, now)

    def after_append(self, seq: int, head_hash: str, now: dt.datetime) -> bool:
        """Called once the entries up to `seq` are committed: a head line when one is due (by
        this process's view, then again by the file's newest line, under its lock)."""
        with self._lock:
            if (self._failed_until is not None and now < self._failed_until) or not self.due(seq, now):
                return False

            def still_due(last: dict[str, Any] | None) -> bool:
                seen = (int(last["seq"]), dt.datetime.fromisoformat(last["at"])) if last else None
                return self._due_after(seen, seq, now)

            try:
                return self.checkpoint(seq, head_hash, now, still_due)
            except Exception:
                self._failed_until = now + RETRY_AFTER_FAILURE  # not on every request
                raise

    def checkpoint(self, seq: int, head_hash: str, now: dt.datetime,
                   write_if: Callable[[dict[str, Any] | None], bool] | None = None) -> bool:
        newer = write_if or (lambda last: last is None or int(last["seq"]) < seq)
        written = self._append({"kind": "head", "seq": seq, "hash": head_hash, "at": _iso(now),
                                "pruned_through_seq": None, "pruned_hash": None}, write_if=newer)
        if written:
            self._last = (seq, now)
        return written

    def checkpoint_now(self, seq: int, head_hash: str, now: dt.datetime) -> None:
        """A head line for the committed head, whatever the schedule (`gateway audit checkpoint`)."""
        with self._lock:
            self.checkpoint(seq, head_hash, now)

    def prune_intent(self, through_seq: int, through_hash: str, now: dt.datetime) -> None:
        """Before a prune commits: the mark it will leave, signed (so verify accepts it)."""
        self._append({"kind": "prune", "seq": through_seq, "hash": through_hash, "at": _iso(now),
                      "pruned_through_seq": through_seq, "pruned_hash": through_hash})


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    seq: int
    kind: str  # truncated | rewritten | prefix-deleted | wiped | checkpoint-forged
    message: str


@dataclass(frozen=True)
class ChainFacts:
    """What the database says: the pruning mark, the lowest and highest entry, their hashes."""

    pruned_seq: int
    pruned_hash: str
    low: int | None
    high: int | None
    hashes: Callable[[list[int]], dict[int, str]]  # entry hashes by seq, for the seqs asked


def verify(facts: ChainFacts, lines: list[dict[str, Any]], certificates: dict[str, Any], *,
           unreadable: int = 0, max_findings: int = 100) -> list[Finding]:
    """Compare the database with the signed checkpoints; every finding names the attack."""
    findings: list[Finding] = []
    trusted = []
    for n, line in enumerate(lines, 1):
        if signature_ok(line, certificates) and isinstance(line.get("seq"), int):
            trusted.append(line)
        else:
            findings.append(Finding(int(line.get("seq") or 0) if str(line.get("seq") or "").isdigit() else 0,
                                    "checkpoint-forged", f"checkpoint line {n} is not signed by a gateway key"))
    if unreadable:
        findings.append(Finding(0, "checkpoint-forged", f"{unreadable} checkpoint line(s) cannot be read"))
    pruned_seq, pruned_hash, low, high = facts.pruned_seq, facts.pruned_hash, facts.low, facts.high
    heads = [ln for ln in trusted if ln.get("kind") == "head"]
    marks = {(ln["pruned_through_seq"], ln["pruned_hash"]) for ln in trusted if ln.get("kind") == "prune"}
    signed_max = max((ln["seq"] for ln in heads), default=0)
    if pruned_seq and (pruned_seq, pruned_hash) not in marks:
        findings.append(Finding(1, "prefix-deleted",
                                f"entries 1..{pruned_seq} are marked pruned, but no signed prune checkpoint records that "
                                f"prune: a prefix was deleted and disguised as retention"))
    if low is None and signed_max > pruned_seq:
        findings.append(Finding(pruned_seq + 1, "wiped",
                                f"the audit log holds no entries, but a signed checkpoint saw entry {signed_max}: "
                                f"the log was wiped"))
        return findings[:max_findings]
    if high is not None and signed_max > high:
        findings.append(Finding(high + 1, "truncated",
                                f"the chain ends at entry {high}, but a signed checkpoint saw entry {signed_max}: "
                                f"entries {high + 1}..{signed_max} (at least) were deleted and the head fixed"))
    stored = facts.hashes([ln["seq"] for ln in heads if pruned_seq < ln["seq"] <= (high or 0)])
    for ln in sorted(heads, key=lambda x: x["seq"]):
        seq = ln["seq"]
        if seq == pruned_seq and pruned_seq and ln["hash"] != pruned_hash:
            findings.append(Finding(seq, "rewritten", f"entry {seq}: the pruning mark differs from its signed checkpoint"))
        elif seq in stored and stored[seq] != ln["hash"]:
            findings.append(Finding(seq, "rewritten",
                                    f"entry {seq}: its hash differs from the signed checkpoint of {ln['at']}: the chain "
                                    f"was rewritten and recomputed"))
        if len(findings) >= max_findings:
            break
    return findings
