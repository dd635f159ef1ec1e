"""The webhook signature of bureau pushes: `X-Signature` over the request, HMAC or key.

    X-Webhook-Timestamp: Unix seconds (receivers refuse more than ±300 s of skew)
    X-Signature: alg=hmac-sha256; sig=<base64>                       (per-receiver shared secret)
    X-Signature: alg=rsa-sha256; keyid=<gateway key id>; sig=<base64> (the gateway's signing key;
                 alg=ecdsa-p256-sha256 for an EC key)

The signed string is `TIMESTAMP \\n DELIVERY-ID \\n hex SHA-256 of the body`, so neither the
body nor the de-duplication key can be changed, and an old request cannot be replayed
after the window. The bulletin inside is XML-DSig signed anyway; the webhook signature lets
a receiver refuse a forged request before it parses any XML. One implementation serves the
adapter (`sign`) and the simulator (`verify`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from gateway.signing.keys import SigningKey, key_id_for

TIMESTAMP = "X-Webhook-Timestamp"
SIGNATURE = "X-Signature"
MAX_SKEW_SECONDS = 300


class WebhookAuthError(Exception):
    """The request's webhook signature does not hold (the receiver answers 401)."""


def signed_string(timestamp: str, delivery_id: str, body: bytes) -> bytes:
    return f"{timestamp}\n{delivery_id}\n{hashlib.sha256(body).hexdigest()}".encode()


def _parse(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        k, sep, v = part.strip().partition("=")
        if sep:
            out[k.strip().lower()] = v.strip()
    return out


def sign(body: bytes, delivery_id: str, *, secret: str | None = None, key: SigningKey | None = None,
         now: float | None = None) -> dict[str, str]:
    """The two headers for one push, signed with a shared secret or the gateway key."""
    timestamp = str(int(time.time() if now is None else now))
    message = signed_string(timestamp, delivery_id, body)
    if secret is not None:
        sig = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
        return {TIMESTAMP: timestamp, SIGNATURE: f"alg=hmac-sha256; sig={sig}"}
    if key is None:
        raise ValueError("sign with a secret or a key")
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        alg, raw = "rsa-sha256", private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    else:
        alg, raw = "ecdsa-p256-sha256", private.sign(message, ec.ECDSA(hashes.SHA256()))
    return {TIMESTAMP: timestamp, SIGNATURE: f"alg={alg}; keyid={key.key_id}; sig={base64.b64encode(raw).decode()}"}


def verify(headers: Mapping[str, str], delivery_id: str, body: bytes, *, secret: str | None = None,
           certificates=(), now: float | None = None, max_skew: float = MAX_SKEW_SECONDS) -> str:  # noqa: ANN001
    """Check the headers; return the algorithm used. Raises WebhookAuthError."""
    h = {k.lower(): v for k, v in headers.items()}
    timestamp, header = h.get(TIMESTAMP.lower()), h.get(SIGNATURE.lower())
    if not timestamp or not header:
        raise WebhookAuthError(f"missing {TIMESTAMP} or {SIGNATURE}")
    try:
        skew = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        raise WebhookAuthError(f"{TIMESTAMP} is not Unix seconds") from None
    if skew > max_skew:
        raise WebhookAuthError(f"stale timestamp ({int(skew)} s off; at most {int(max_skew)} s)")
    parts = _parse(header)
    alg = parts.get("alg", "")
    try:
        sig = base64.b64decode(parts.get("sig", ""), validate=True)
    except ValueError:
        raise WebhookAuthError("the signature is not base64") from None
    message = signed_string(timestamp, delivery_id, body)
    if alg == "hmac-sha256":
        if secret is None:
            raise WebhookAuthError("HMAC signatures are not accepted here")
        if not hmac.compare_digest(hmac.new(secret.encode(), message, hashlib.sha256).digest(), sig):
            raise WebhookAuthError("bad signature")
        return alg
    if alg in ("rsa-sha256", "ecdsa-p256-sha256"):
        keyid = parts.get("keyid")
        cert = next((c for c in certificates if key_id_for(c) == keyid), None)
        if cert is None:
            raise WebhookAuthError(f"key {keyid} is not pinned here")
        public = cert.public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey) and alg == "rsa-sha256":
                public.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(public, ec.EllipticCurvePublicKey) and alg == "ecdsa-p256-sha256":
                public.verify(sig, message, ec.ECDSA(hashes.SHA256()))
            else:
                raise WebhookAuthError(f"{alg} does not fit key {keyid}")
        except InvalidSignature:
            raise WebhookAuthError("bad signature") from None
        return alg
    raise WebhookAuthError(f"signature algorithm {alg or '(none)'} is not accepted")
