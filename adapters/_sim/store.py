"""What a simulator has applied, in a small SQLite file, so a restart does not forget.

One row per delivery id (the de-duplication key): the bulletin it carried, its items, the
signed receipt, and when the receipt becomes available (asynchronous receipts). Also the
request nonces seen within the replay window (credit-china's HMAC check).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS applied (
    delivery_id TEXT PRIMARY KEY,
    bulletin_id TEXT NOT NULL,
    items       TEXT NOT NULL,
    receipt     BLOB NOT NULL,
    applied_at  REAL NOT NULL,
    ready_at    REAL NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS nonces (
    app_key TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (app_key, nonce)
);
"""


@dataclass(frozen=True)
class Applied:
    delivery_id: str
    bulletin_id: str
    items: list[str]
    receipt: bytes
    applied_at: float
    ready_at: float
    deliveries: int


class AppliedStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def get(self, delivery_id: str) -> Applied | None:
        with self._lock:
            row = self._conn.execute("SELECT delivery_id, bulletin_id, items, receipt, applied_at, ready_at, deliveries "
                                     "FROM applied WHERE delivery_id = ?", (delivery_id,)).fetchone()
        if row is None:
            return None
        return Applied(row[0], row[1], json.loads(row[2]), bytes(row[3]), row[4], row[5], row[6])

    def apply_once(self, delivery_id: str, bulletin_id: str, items: list[str], receipt: bytes, now: float,
                   ready_at: float) -> bool:
        """Record the delivery; False (and a counted re-delivery) when it was already applied."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO applied (delivery_id, bulletin_id, items, receipt, applied_at, ready_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (delivery_id, bulletin_id, json.dumps(items), receipt, now, ready_at))
            if cur.rowcount == 1:
                return True
            self._conn.execute("UPDATE applied SET deliveries = deliveries + 1 WHERE delivery_id = ?", (delivery_id,))
            return False

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM applied").fetchone()[0]

    def remember_nonce(self, app_key: str, nonce: str, now: float, window: float) -> bool:
        with self._lock:
            self._conn.execute("DELETE FROM nonces WHERE seen_at < ?", (now - window,))
            cur = self._conn.execute("INSERT OR IGNORE INTO nonces (app_key, nonce, seen_at) VALUES (?, ?, ?)",
                                     (app_key, nonce, now))
            return cur.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._conn.close()
