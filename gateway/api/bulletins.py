"""`GET /v1/bulletins/{id}` (the exact signed bytes) and `GET /v1/bulletins/{id}/evidence`."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse
from cryptography.hazmat.primitives import serialization

from gateway import xmlsafe
from gateway.api.deps import services
from gateway.delivery import outbox, receipt_store
from gateway.errors import GatewayError
from gateway.signing.dsig import describe_signature
from gateway.signing.evidence import build_evidence_zip


class BulletinNotFound(GatewayError):
    status, slug, title = 404, "bulletin-not-found", "No such bulletin"


def get_bulletin(bulletin_id: str):  # noqa: ANN201
    with services().db.read() as conn:
        row = outbox.get_bulletin(conn, bulletin_id)
    if row is None:
        raise BulletinNotFound(f"no bulletin {bulletin_id}")
    return ConnexionResponse(status_code=200, mimetype="application/xml", content_type="application/xml",
                             body=bytes(row.signed), headers={"X-Bulletin-Digest": f"sha-256={row.digest}"})


def get_evidence(bulletin_id: str):  # noqa: ANN201
    """A zip of the bulletin, its verified receipts and the certificates to check them offline."""
    svc = services()
    with svc.db.read() as conn:
        row = outbox.get_bulletin(conn, bulletin_id)
        if row is None:
            raise BulletinNotFound(f"no bulletin {bulletin_id}")
        found = receipt_store.verified_receipts_of_bulletin(conn, bulletin_id)
    signed = bytes(row.signed)
    certs: list[bytes] = []
    info = describe_signature(xmlsafe.parse(signed))
    for cert in info.certificates if info else []:
        certs.append(cert.public_bytes(serialization.Encoding.PEM))
    registry = svc.destinations
    for destination in dict.fromkeys(r.destination for r in found):
        if destination in registry:
            for pem in registry.trust_certificates_pem(destination):
                if pem not in certs:
                    certs.append(pem)
    data = build_evidence_zip(signed, [bytes(r.signed) for r in found], certs)
    return ConnexionResponse(status_code=200, mimetype="application/zip", content_type="application/zip", body=data,
                             headers={"Content-Disposition": f'attachment; filename="evidence-{bulletin_id}.zip"'})
