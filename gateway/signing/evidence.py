"""Evidence bundle: a bulletin, its receipts and the certificates, verifiable offline.

The zip holds `bulletin.xml`, `receipt-N.xml`, `certificates/gateway.pem` (the certificate
that signed the bulletin), `certificates/receipt-N.pem` (the destination's pinned certificate
that verified receipt N), `certificates/gateway-certificates.json` (the gateway's published
signing certificates, as `GET /v1/trust/certificates` answers) and a README.txt that says
how to check everything with `xmlsec1` (no gateway needed) and with `gateway verify`.
The certificates are a convenience: whoever checks the zip pins the gateway's certificate
they obtained themselves (its fingerprint is published), never one the zip carries.
Entries carry a fixed timestamp so the same inputs give the same bytes (the bundle's own
hash is stable and can be quoted).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

README = """Evidence bundle: a signed bulletin, the signed receipts for it, and the certificates.

Files
  bulletin.xml                   the bulletin exactly as it was sent (enveloped XML-DSig signature)
  receipt-N.xml                  each destination's signed receipt; its NonRepudiationInformation
                                 echoes the DigestValue of bulletin.xml's signature reference
  certificates/gateway.pem       the certificate that signed bulletin.xml
  certificates/receipt-N.pem     the destination's certificate that signed receipt-N.xml
  certificates/gateway-certificates.json
                                 the gateway's signing certificates as published at
                                 GET /v1/trust/certificates (key id, validity, SHA-256 fingerprint)

Pin first: anyone can build a zip like this one with their own key and certificates. Before
you trust certificates/gateway.pem, compare its SHA-256 fingerprint with the one the gateway
publishes (GET /v1/trust/certificates, or the copy you pinned earlier):
  openssl x509 -in certificates/gateway.pem -noout -fingerprint -sha256
Likewise certificates/receipt-N.pem against the destination's own published certificate.
Or put your pinned copies in place of those files.

Verify offline with xmlsec1 (Debian/Ubuntu: apt-get install xmlsec1). The options take the
key ONLY from an X.509 certificate in the signature that chains to the trusted certificate;
without --enabled-key-data x509, xmlsec1 also accepts a bare <KeyValue> of any key (a forgery).
  xmlsec1 --verify --enabled-key-data x509 --trusted-pem certificates/gateway.pem bulletin.xml
  xmlsec1 --verify --enabled-key-data x509 --trusted-pem certificates/receipt-1.pem receipt-1.xml
  Each prints "OK" and "SignedInfo References (ok/all): 1/1". For evidence older than a
  certificate's validity add --verification-time "YYYY-MM-DD HH:MM:SS" (the time it was signed).

  Then compare the digest a receipt echoes with the bulletin's own digest:
  grep -o '<ds:DigestValue>[^<]*' bulletin.xml
  grep -o '<ds:DigestValue>[^<]*' receipt-1.xml      (the first value is the echo)

Verify with the gateway (all of it at once: signatures, pinned certificates, the digest echo)
  gateway verify evidence.zip --cert gateway-cert.pem --receipt-cert destination-cert.pem
  (gateway-cert.pem and destination-cert.pem: the certificates you pinned)

Algorithms: RSA-SHA256 or ECDSA-P256-SHA256, SHA-256 digests, exclusive C14N, one reference
URI="" over the whole document (enveloped). See docs/signing.md in the gateway sources.
"""


def _entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build_evidence_zip(bulletin_bytes: bytes, receipts: Sequence[bytes], *, gateway_certificate: bytes | None,
                       receipt_certificates: Sequence[bytes | None] = (),
                       published: dict[str, Any] | None = None) -> bytes:
    """Zip a bulletin, its receipts and the PEM certificates with a README on how to verify.
    `receipt_certificates[n]` is the certificate that verified `receipts[n]` (None: unknown)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _entry(zf, "README.txt", README.encode())
        _entry(zf, "bulletin.xml", bulletin_bytes)
        for n, receipt in enumerate(receipts, 1):
            _entry(zf, f"receipt-{n}.xml", receipt)
        if gateway_certificate:
            _entry(zf, "certificates/gateway.pem", gateway_certificate)
        for n, cert in enumerate(receipt_certificates, 1):
            if cert:
                _entry(zf, f"certificates/receipt-{n}.pem", cert)
        if published is not None:
            _entry(zf, "certificates/gateway-certificates.json",
                   json.dumps(published, ensure_ascii=False, indent=2, sort_keys=True).encode())
    return buf.getvalue()
