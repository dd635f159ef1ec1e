"""The 信用中国 adapter: REST push of the signed bulletin over httpx, HMAC-signed requests.

    POST {url}/bulletins                 body: the signed bulletin (application/xml)
        200 + signed receipt             applied, receipt in the answer (synchronous)
        202                              queued; the receipt comes later
    GET  {url}/receipts/{delivery_id}    200 + receipt, or 404/202 while there is none

Every request carries the port's delivery headers (`X-Delivery-Id`, the platform's
de-duplication key) and the authentication headers of `adapters.credit_china.auth`.

Options (`config/destinations.yaml`, one destination per platform instance):

    url:             base URL of the platform's interface (required)
    platform:        a display name, e.g. 信用中国(四川)
    app_key:         the application key the platform issued (required)
    app_secret_env:  the environment variable holding the app secret (or app_secret: inline)
    timeout:         seconds for the whole answer (default 10); connect_timeout (default 5)
    push_path, receipt_path: override the two paths ("/bulletins", "/receipts/{delivery_id}")
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from adapters import _http
from adapters.credit_china import auth
from gateway.delivery.port import OutgoingDelivery, PushResult


class CreditChinaDestination:
    def __init__(self, name: str, url: str, app_key: str, app_secret: str, *, platform: str | None = None,
                 timeout: httpx.Timeout | float = 10.0, push_path: str = "/bulletins",
                 receipt_path: str = "/receipts/{delivery_id}", client: httpx.AsyncClient | None = None) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.platform = platform or name
        self.app_key = app_key
        self._secret = app_secret
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(float(timeout))
        self.push_path = push_path
        self.receipt_path = receipt_path
        self._client = client

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:  # made inside the running loop
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, verify=_http.tls_context())
        return self._client

    def _signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return auth.sign_request(self.app_key, self._secret, method, urlsplit(url).path, body)

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        url = _http.join(self.url, self.push_path)
        headers = delivery.headers() | self._signed_headers("POST", url, delivery.signed)
        result, _ = await _http.send(self.client, "POST", url, content=delivery.signed, headers=headers)
        return result

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        url = _http.join(self.url, self.receipt_path.format(delivery_id=quote(delivery_id, safe="")))
        return await _http.fetch_receipt(self.client, url, self._signed_headers("GET", url, b""))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def factory(config: Any) -> CreditChinaDestination:
    """Build from a `DestinationConfig` (`adapter: adapters.credit_china:factory`)."""
    return CreditChinaDestination(
        config.name,
        _http.option(config, "url", required=True),
        _http.option(config, "app_key", required=True),
        _http.secret(config, "app_secret"),
        platform=_http.option(config, "platform"),
        timeout=_http.timeout_of(config),
        push_path=_http.option(config, "push_path", "/bulletins"),
        receipt_path=_http.option(config, "receipt_path", "/receipts/{delivery_id}"),
    )
