"""Request signing for the 信用中国 REST interface: app key + HMAC-SHA256 (MD5 is refused).

Each request carries

    X-App-Key:         the platform-issued application key
    X-Timestamp:       Unix seconds (the server refuses more than ±300 s of skew)
    X-Nonce:           a random string used once (the server refuses a replay within the window)
    X-Content-SHA256:  hex SHA-256 of the body (of b"" for a GET)
    X-Signature-Method: HMAC-SHA256
    X-Signature:       base64(HMAC-SHA256(app secret, string to sign))

and the string to sign is the lines

    METHOD \n PATH \n TIMESTAMP \n NONCE \n CONTENT-SHA256

(PATH is the URL path without the query, as sent). The adapter signs with `sign_request`;
the simulator checks with `Verifier` — one implementation, so the two cannot drift.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping

APP_KEY = "X-App-Key"
TIMESTAMP = "X-Timestamp"
NONCE = "X-Nonce"
CONTENT_SHA256 = "X-Content-SHA256"
SIGNATURE = "X-Signature"
SIGNATURE_METHOD = "X-Signature-Method"
METHOD = "HMAC-SHA256"
MAX_SKEW_SECONDS = 300


class AuthError(Exception):
    """The request's signature does not hold (the server answers 401 with this reason)."""


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, digest: str) -> bytes:
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, digest: str) -> str:
    mac = hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, digest), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def sign_request(app_key: str, secret: str, method: str, path: str, body: bytes, *,
                 now: float | None = None, nonce: str | None = None) -> dict[str, str]:
    """The authentication headers for one request."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(16)
    digest = body_digest(body)
    return {
        APP_KEY: app_key,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        CONTENT_SHA256: digest,
        SIGNATURE_METHOD: METHOD,
        SIGNATURE: signature(secret, method, path, timestamp, nonce, digest),
    }


class NonceCache:
    """Nonces seen within the skew window (in memory; `remember` may also persist them)."""

    def __init__(self, window: float = 2 * MAX_SKEW_SECONDS,
                 persist: Callable[[str, str, float], bool] | None = None) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._persist = persist

    def remember(self, app_key: str, nonce: str, now: float) -> bool:
        """True the first time (app_key, nonce) is seen within the window."""
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self.window}
            seen = self._seen.get((app_key, nonce))
            if seen is not None and now - seen < self.window:
                return False
            if self._persist is not None and not self._persist(app_key, nonce, now):
                return False
            self._seen[(app_key, nonce)] = now
            return True


class Verifier:
    """The server side: check a request's headers against the app secrets it knows."""

    def __init__(self, secrets_by_key: Mapping[str, str], nonces: NonceCache | None = None,
                 max_skew: float = MAX_SKEW_SECONDS) -> None:
        self.secrets = dict(secrets_by_key)
        self.nonces = nonces or NonceCache()
        self.max_skew = max_skew

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes, *,
               now: float | None = None) -> str:
        """Return the app key; raise AuthError naming what is wrong."""
        h = {k.lower(): v for k, v in headers.items()}
        now = time.time() if now is None else now
        missing = [n for n in (APP_KEY, TIMESTAMP, NONCE, CONTENT_SHA256, SIGNATURE) if not h.get(n.lower())]
        if missing:
            raise AuthError("missing " + ", ".join(missing))
        method_name = h.get(SIGNATURE_METHOD.lower(), METHOD)
        if method_name.upper() != METHOD:
            raise AuthError(f"signature method {method_name} is not accepted; use {METHOD}")
        app_key = h[APP_KEY.lower()]
        secret = self.secrets.get(app_key)
        if secret is None:
            raise AuthError(f"unknown app key {app_key}")
        try:
            timestamp = int(h[TIMESTAMP.lower()])
        except ValueError:
            raise AuthError("X-Timestamp is not Unix seconds") from None
        if abs(now - timestamp) > self.max_skew:
            raise AuthError(f"stale timestamp ({int(now - timestamp)} s off; at most {int(self.max_skew)} s)")
        digest = h[CONTENT_SHA256.lower()].lower()
        if not hmac.compare_digest(digest, body_digest(body)):
            raise AuthError("X-Content-SHA256 does not match the body")
        expected = signature(secret, method, path, h[TIMESTAMP.lower()], h[NONCE.lower()], digest)
        if not hmac.compare_digest(expected, h[SIGNATURE.lower()]):
            raise AuthError("bad signature")
        if not self.nonces.remember(app_key, h[NONCE.lower()], now):
            raise AuthError("replayed nonce")
        return app_key
