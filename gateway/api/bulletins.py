"""`GET /v1/bulletins/{id}` (the exact signed bytes) and `GET /v1/bulletins/{id}/evidence`."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse
from cryptography.hazmat.primitives import serialization

from gateway import xmlsafe
from gateway.api.deps import services
from gateway.delivery import bulletin_store, receipt_store
from gateway.errors import GatewayError
from gateway.signing.dsig import describe_signature
from gateway.signing.evidence import build_evidence_zip
from gateway.signing.published import published_certificates


class BulletinNotFound(GatewayError):
    status, slug, title = 404, "bulletin-not-found", "No such bulletin"


def get_bulletin(bulletin_id: str):  # noqa: ANN201
    with services().db.read() as conn:
        row = bulletin_store.get_bulletin(conn, bulletin_id)
    if row is None:
        raise BulletinNotFound(f"no bulletin {bulletin_id}")
    return ConnexionResponse(status_code=200, mimetype="application/xml", content_type="application/xml",
                             body=bytes(row.signed), headers={"X-Bulletin-Digest": f"sha-256={row.digest}"})


def get_evidence(bulletin_id: str):  # noqa: ANN201
    """A zip of the bulletin, its verified receipts and the certificates to check them offline."""
    svc = services()
    with svc.db.read() as conn:
        row = bulletin_store.get_bulletin(conn, bulletin_id)
        if row is None:
            raise BulletinNotFound(f"no bulletin {bulletin_id}")
        found = receipt_store.verified_receipts_of_bulletin(conn, bulletin_id)
    signed = bytes(row.signed)
    info = describe_signature(xmlsafe.parse(signed))
    gateway_cert = info.certificates[0].public_bytes(serialization.Encoding.PEM) if info and info.certificates else None
    registry = svc.destinations
    receipt_certs = [_signer_pem(bytes(r.signed), registry, r.destination) for r in found]
    keyring = svc.keyring
    published = published_certificates((k.certificate for k in keyring),
                                       keyring.active.key_id if len(keyring) else None)
    data = build_evidence_zip(signed, [bytes(r.signed) for r in found], gateway_certificate=gateway_cert,
                              receipt_certificates=receipt_certs, published=published)
    return ConnexionResponse(status_code=200, mimetype="application/zip", content_type="application/zip", body=data,
                             headers={"Content-Disposition": f'attachment; filename="evidence-{bulletin_id}.zip"'})


def _signer_pem(receipt: bytes, registry, destination: str) -> bytes | None:  # noqa: ANN001
    """The destination's pinned certificate that signed `receipt` (what verified it)."""
    if destination not in registry:
        return None
    info = describe_signature(xmlsafe.parse(receipt))
    carried = {c.public_bytes(serialization.Encoding.DER) for c in (info.certificates if info else ())}
    trust = registry.trust(destination)
    for cert in trust.pinned:
        if cert.public_bytes(serialization.Encoding.DER) in carried:
            return cert.public_bytes(serialization.Encoding.PEM)
    pems = registry.trust_certificates_pem(destination)
    return pems[0] if pems else None
