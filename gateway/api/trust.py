"""`GET /v1/trust/certificates`: the gateway's signing certificates, published for pinning."""

from __future__ import annotations

from gateway.api.deps import services
from gateway.api.problems import json_response
from gateway.signing.published import published_certificates


def get_certificates():  # noqa: ANN201
    keyring = services().keyring
    active = keyring.active.key_id if len(keyring) else None
    return json_response(published_certificates((k.certificate for k in keyring), active),
                         headers={"Cache-Control": "public, max-age=300"})
