"""Authentication: who is calling (认证). The functions connexion calls for the security
schemes of `schemas/openapi.yaml`:

- `bearer_info`: `Authorization: Bearer gw_<key id>_<secret>`;
- `apikey_info`: the same key in `X-API-Key`;
- `client_cert_info`: mTLS terminated by a trusted reverse proxy, which forwards the verified
  client certificate (PEM, URL-encoded) in `X-Client-Cert`. The header is believed only when
  the TCP peer is one of `GATEWAY_TRUSTED_PROXIES`; the certificate's SHA-256 fingerprint
  names the partner (`gateway keys bind-cert`).

Once the caller is known, the same step authorises the operation (`authz.authorize`) and
takes a token from the partner's rate-limit bucket, so every protected operation is guarded
by the spec alone, whatever else is wired. The principal is left on the ASGI scope
(`scope["extensions"]["gateway_access"]`) for the audit middleware, refusals included.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.concurrency import run_in_threadpool

from gateway.access import keys
from gateway.access.authz import NotAuthenticated, RateLimited, authorize, rule_for
from gateway.access.ratelimit import retry_after_header
from gateway.api.deps import services as current_services

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gateway"'}
MISSING_DETAIL = ("no credentials: send an API key as 'Authorization: Bearer gw_<key id>_<secret>' "
                  "(or in X-API-Key); an operator issues one with 'gateway keys issue <partner USCC>'")


def challenge(reason: str | None = None, description: str | None = None) -> dict[str, str]:
    """The `WWW-Authenticate` header of a 401 (RFC 6750 §3): no error when nothing was presented,
    `invalid_token` with the reason when a credential was refused."""
    if reason is None:
        return dict(CHALLENGE)
    text = (description or reason).replace("\\", "").replace('"', "'").encode("ascii", "replace").decode()
    return {"WWW-Authenticate": f'Bearer realm="gateway", error="invalid_token", error_description="{text}"'}


def access_state(scope: dict[str, Any]) -> dict[str, Any]:
    return scope.setdefault("extensions", {}).setdefault("gateway_access", {})


def _refused(exc: keys.Refused) -> NotAuthenticated:
    return NotAuthenticated(str(exc), headers=challenge(exc.reason, str(exc)), reason=exc.reason)


async def _verify(fn, *args) -> keys.Principal:  # noqa: ANN001
    """Credential checks hit the database only on a cache miss; then off the event loop."""
    try:
        return await run_in_threadpool(fn, *args)
    except keys.Refused as exc:
        raise _refused(exc) from None


def admit(principal: keys.Principal, request: Any) -> dict[str, Any]:
    """Authorise and rate-limit an authenticated principal; its token info for connexion."""
    scope = request.scope
    state = access_state(scope)
    state["principal"] = principal
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    authorize(principal, rule_for(routing.get("operation_id")), scope)
    svc = current_services()
    bucket = svc.rate_limiter
    wait = bucket.take(principal.partner_id or principal.key_id, bucket.rate_for(principal.sector, principal.rate_per_second))
    if wait > 0:
        raise RateLimited(f"the rate limit of partner {principal.organisation} is exhausted; retry in {wait:.2f} s",
                            headers={"Retry-After": retry_after_header(wait)}, retry_after_seconds=round(wait, 3))
    return principal.token_info()


async def _key(token: str, request: Any) -> dict[str, Any]:
    svc = current_services()
    state = access_state(request.scope)
    state["presented"] = keys.parse_token(token) or "malformed"
    now, ttl = svc.clock.now(), svc.access.key_cache_seconds
    try:
        principal = keys.verify_token(svc.db, token, now, ttl, cache_only=True)
    except keys.Refused as exc:
        raise _refused(exc) from None
    if principal is None:
        principal = await _verify(keys.verify_token, svc.db, token, now, ttl)
    return admit(principal, request)


async def bearer_info(token: str, request: Any = None) -> dict[str, Any]:
    return await _key(token, request)


async def apikey_info(apikey: str, request: Any = None) -> dict[str, Any]:
    return await _key(apikey, request)


def peer_is_trusted(peer: str | None, networks: list[Any]) -> bool:
    if not peer or not networks:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in networks)


def certificate_from_header(value: str) -> x509.Certificate:
    text = unquote(value.strip())
    if "BEGIN CERTIFICATE" not in text:
        raise ValueError("not a PEM certificate")
    return x509.load_pem_x509_certificate(text.encode("ascii"))


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


async def client_cert_info(cert: str, request: Any = None) -> dict[str, Any]:
    svc = current_services()
    cfg = svc.access
    client = request.scope.get("client") if request is not None else None
    peer = client[0] if client else None
    if not peer_is_trusted(peer, cfg.proxy_networks()):
        raise NotAuthenticated(f"{cfg.client_cert_header} is accepted only from a trusted proxy", headers=challenge("untrusted_proxy"),
                            reason="untrusted_proxy")
    try:
        certificate = certificate_from_header(cert)
    except ValueError as exc:
        raise NotAuthenticated(f"client certificate: {exc}",
                            headers=challenge("certificate_malformed"), reason="certificate_malformed") from None
    now = svc.clock.now()
    if not (certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc):
        raise NotAuthenticated("the client certificate is not valid now",
                            headers=challenge("certificate_expired"), reason="certificate_expired")
    fp = fingerprint(certificate)
    access_state(request.scope)["presented"] = "c" + fp[:11]
    principal = await _verify(keys.verify_fingerprint, svc.db, fp, now, cfg.key_cache_seconds)
    return admit(principal, request)
