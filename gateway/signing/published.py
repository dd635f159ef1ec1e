"""The gateway's signing certificates as it publishes them (`GET /v1/trust/certificates`,
`certificates/gateway-certificates.json` in each evidence zip): key id, subject, validity,
SHA-256 fingerprint of the DER certificate and the PEM, so a partner can pin them and
compare fingerprints out of band."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from gateway.signing.keys import key_id_for


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate, colon-separated upper-case hex (as `openssl x509
    -noout -fingerprint -sha256` prints it)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def describe(cert: x509.Certificate, *, active: bool = False) -> dict[str, Any]:
    return {
        "key_id": key_id_for(cert),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial_number": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256_fingerprint": fingerprint(cert),
        "active": active,
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }


def published_certificates(certificates: Iterable[x509.Certificate], active_key_id: str | None) -> dict[str, Any]:
    return {"certificates": [describe(c, active=key_id_for(c) == active_key_id) for c in certificates]}
