"""Shared plumbing of the HTTP adapters: option reading, the httpx client, error classes.

Every adapter answers the worker with a `PushResult` and never raises for transport
failures: `send` turns httpx's exception hierarchy into the port's classes
(`httpx.TimeoutException` → timeout, any other `httpx.TransportError` → network_error) and
an answer into `PushResult.from_http`.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from gateway.delivery.port import PushResult

DEFAULT_TIMEOUT = 10.0


class AdapterConfigError(ValueError):
    """An adapter option is missing or wrong; the message names the destination and the key."""


def option(config: Any, key: str, default: Any = None, *, required: bool = False) -> Any:
    value = (config.options or {}).get(key, default)
    if required and value in (None, ""):
        raise AdapterConfigError(f"destination {config.name!r}: options.{key} is required")
    return value


def secret(config: Any, key: str, *, required: bool = True) -> str | None:
    """`options.<key>` or the environment variable named by `options.<key>_env` (preferred:
    secrets stay out of the YAML)."""
    env_name = option(config, f"{key}_env")
    if env_name:
        value = os.environ.get(str(env_name))
        if value:
            return value
        if required:
            raise AdapterConfigError(f"destination {config.name!r}: options.{key}_env names {env_name}, which is not set")
        return None
    return option(config, key, required=required)


def timeout_of(config: Any) -> httpx.Timeout:
    """`options.timeout` seconds for the whole answer; `options.connect_timeout` for connecting."""
    total = float(option(config, "timeout", DEFAULT_TIMEOUT))
    return httpx.Timeout(total, connect=float(option(config, "connect_timeout", min(total, 5.0))))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every adapter's client. httpx builds a new one per client, loading
    the CA bundle each time (~0.1-0.4 s, on the event loop): with 50 partner destinations the
    first pushes waited 8 s for their clients (bench/watchlists.py; docs/notes.md)."""
    return httpx.create_ssl_context()


def make_client(config: Any, **kw: Any) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=int(option(config, "max_connections", 20)))
    verify = option(config, "verify_tls", True)
    return httpx.AsyncClient(timeout=timeout_of(config), limits=limits, follow_redirects=False,
                             verify=tls_context() if verify is True else verify, **kw)


def classify_exception(exc: BaseException) -> PushResult:
    if isinstance(exc, httpx.TimeoutException):
        return PushResult.timed_out(exc)
    return PushResult.network_error(exc)


async def send(client: httpx.AsyncClient, method: str, url: str, *, content: bytes | None = None,
               headers: Mapping[str, str] | None = None) -> tuple[PushResult, httpx.Response | None]:
    """One request, classified; the response (when there was one) for callers that need more."""
    try:
        response = await client.request(method, url, content=content, headers=dict(headers or {}))
    except (httpx.TransportError, OSError) as exc:
        return classify_exception(exc), None
    return PushResult.from_http(response.status_code, response.headers, response.content), response


async def fetch_receipt(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> bytes | None:
    """GET an asynchronous receipt: its XML, or None while there is none (or the peer is down)."""
    try:
        response = await client.get(url, headers=headers | {"Accept": "application/xml"})
    except (httpx.TransportError, OSError):
        return None
    if response.status_code == 200 and response.content.lstrip()[:1] == b"<":
        return response.content
    return None


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")
