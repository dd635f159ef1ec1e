"""Partner receivers (finance, insurance, land, securities, approval, trading, electricity,
municipal sharing platforms, 政务服务一体化平台): a signed webhook push of the bulletin.

    POST {url}                           body: the signed bulletin (application/xml)
         X-Delivery-Id …, X-Webhook-Timestamp, X-Signature (adapters.bureaus.webhook)
        200 + signed receipt | 202 (receipt later: posted to the gateway's /v1/receipts,
        or fetched from receipt_url)
    GET  {receipt_url}                   optional; "{delivery_id}" is substituted

Options:

    url:           the receiver's webhook URL (required)
    receiver:      a display name, e.g. 绵阳市自然资源和规划局
    sectors:       the docs/policy.md §9 sectors it acts for (default: [subscription.sector])
    item_kinds:    further item kinds it takes (e.g. [penalty]); list entries are always
                   admitted by their measures, follow-ups (withdrawals, removals, repairs) always
    signature:     hmac (default; secret_env / secret) or key (keys_dir: the gateway's keyring,
                   key_id: which key, default the active one)
    receipt_url:   e.g. https://bank.example/credit/receipts/{delivery_id}
    timeout, connect_timeout

Before sending, `guard.SectorGuard` refuses a bulletin holding anything outside the sector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from adapters import _http
from adapters.bureaus import webhook
from adapters.bureaus.guard import SectorGuard
from gateway.delivery.port import OutgoingDelivery, PushResult, PushStatus
from gateway.signing.keys import SigningKey


class BureauDestination:
    def __init__(self, name: str, url: str, guard: SectorGuard, *, secret: str | None = None,
                 key: SigningKey | None = None, receiver: str | None = None, receipt_url: str | None = None,
                 timeout: httpx.Timeout | float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        if (secret is None) == (key is None):
            raise ValueError(f"destination {name!r}: sign with a shared secret or the gateway key (exactly one)")
        self.name = name
        self.url = url
        self.guard = guard
        self.receiver = receiver or name
        self.receipt_url = receipt_url
        self._secret = secret
        self._key = key
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(float(timeout))
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, verify=_http.tls_context())
        return self._client

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        try:
            problems = self.guard.problems(delivery.signed)
        except Exception as exc:  # noqa: BLE001 - an unreadable bulletin never leaves
            problems = [f"unreadable bulletin: {exc}"]
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            return PushResult(PushStatus.REJECTED, error="refused before sending: " + "; ".join(problems[:3]) + more)
        headers = delivery.headers() | webhook.sign(delivery.signed, delivery.delivery_id, secret=self._secret,
                                                    key=self._key)
        result, _ = await _http.send(self.client, "POST", self.url, content=delivery.signed, headers=headers)
        return result

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        if not self.receipt_url:
            return None
        url = self.receipt_url.format(delivery_id=quote(delivery_id, safe=""))
        headers = webhook.sign(b"", delivery_id, secret=self._secret, key=self._key)
        return await _http.fetch_receipt(self.client, url, headers)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _signing_key(config: Any) -> SigningKey:
    from gateway.paths import ROOT
    from gateway.signing.keys import load_keyring

    keys_dir = Path(_http.option(config, "keys_dir", "var/keys"))
    keyring = load_keyring(keys_dir if keys_dir.is_absolute() else ROOT / keys_dir)
    key_id = _http.option(config, "key_id")
    return keyring.get(key_id) if key_id else keyring.active


def factory(config: Any) -> BureauDestination:
    """Build from a `DestinationConfig` (`adapter: adapters.bureaus:factory`)."""
    sectors = _http.option(config, "sectors") or [config.subscription.sector]
    try:
        guard = SectorGuard.build(sectors, _http.option(config, "item_kinds") or config.subscription.item_kinds)
    except ValueError as exc:
        raise _http.AdapterConfigError(f"destination {config.name!r}: {exc}") from None
    mode = _http.option(config, "signature", "hmac")
    if mode not in ("hmac", "key"):
        raise _http.AdapterConfigError(f"destination {config.name!r}: options.signature must be hmac or key")
    return BureauDestination(
        config.name,
        _http.option(config, "url", required=True),
        guard,
        secret=_http.secret(config, "secret") if mode == "hmac" else None,
        key=_signing_key(config) if mode == "key" else None,
        receiver=_http.option(config, "receiver"),
        receipt_url=_http.option(config, "receipt_url"),
        timeout=_http.timeout_of(config),
    )
