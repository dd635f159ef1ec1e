"""Evidence bundle: a bulletin, its receipts and the certificates, verifiable offline.

The zip holds `bulletin.xml`, `receipt-N.xml`, `certificates/cert-N.pem` and a README.txt
that says how to check everything with `xmlsec1` (no gateway needed) and with
`gateway bulletin verify`. Entries carry a fixed timestamp so the same inputs give the
same bytes (the bundle's own hash is stable and can be quoted).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)

README = """Evidence bundle: a signed bulletin, the signed receipts for it, and the certificates.

Files
  bulletin.xml            the bulletin exactly as it was sent (enveloped XML-DSig signature)
  receipt-N.xml           each destination's signed receipt; its NonRepudiationInformation
                          echoes the DigestValue of bulletin.xml's signature reference
  certificates/cert-N.pem the certificates involved (the gateway's signing certificate(s),
                          the destinations' receipt-signing certificates)

Verify offline with xmlsec1 (Debian/Ubuntu: apt-get install xmlsec1)
  xmlsec1 --verify --pubkey-cert-pem certificates/cert-1.pem bulletin.xml
  xmlsec1 --verify --pubkey-cert-pem certificates/cert-2.pem receipt-1.xml
  (or --trusted-pem CA.pem when the signer's certificate was issued by a CA you trust)
  Each prints "OK" and "SignedInfo References (ok/all): 1/1".

  Then compare the digest a receipt echoes with the bulletin's own digest:
  grep -o '<ds:DigestValue>[^<]*' bulletin.xml
  grep -o '<ds:DigestValue>[^<]*' receipt-1.xml      (the first value is the echo)

Verify with the gateway
  gateway bulletin verify bulletin.xml --cert certificates/cert-1.pem
  gateway bulletin show bulletin.xml

Algorithms: RSA-SHA256 or ECDSA-P256-SHA256, SHA-256 digests, exclusive C14N, one reference
URI="" over the whole document (enveloped). See docs/signing.md in the gateway sources.
"""


def _entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build_evidence_zip(bulletin_bytes: bytes, receipts: Sequence[bytes], certificates: Sequence[bytes]) -> bytes:
    """Zip a bulletin, its receipts and the PEM certificates with a README on how to verify."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _entry(zf, "README.txt", README.encode())
        _entry(zf, "bulletin.xml", bulletin_bytes)
        for n, receipt in enumerate(receipts, 1):
            _entry(zf, f"receipt-{n}.xml", receipt)
        for n, cert in enumerate(certificates, 1):
            _entry(zf, f"certificates/cert-{n}.pem", cert)
    return buf.getvalue()
