"""The destination port: what every adapter implements and what the worker calls.

An adapter (`adapters/credit_china`, `adapters/enterprise_publicity`, `adapters/bureaus`,
`adapters.local.recorder`) is a `Destination`: it pushes one signed bulletin
(`OutgoingDelivery`) and answers with a `PushResult` that classifies what happened. The
worker never looks at HTTP itself; it acts on the class:

| class            | typical cause                           | worker action                     |
|------------------|-----------------------------------------|-----------------------------------|
| `delivered`      | 2xx                                     | apply the receipt or await it     |
| `network_error`  | connection refused/reset, DNS           | retry (policy), breaker failure   |
| `timeout`        | no answer in time                       | retry (policy), breaker failure   |
| `server_error`   | 5xx                                     | retry (policy), breaker failure   |
| `throttled`      | 429                                     | retry at max(policy, Retry-After) |
| `rejected`       | 4xx other than 408/429 (validation)     | state `rejected`, no retry        |

A receipt whose signature or digest echo does not verify is classed `bad_receipt` by the
worker (not by adapters): it is retried like a transient failure, counted, and flagged on
the delivery so an operator sees it.

Every attempt of a delivery carries the same `delivery_id` (HTTP header `X-Delivery-Id`), so
the destination can recognise a re-send and apply the bulletin once.

Adapters are built by a factory named in `config/destinations.yaml` as `package.module:factory`
and called as `factory(config)` with the validated `DestinationConfig` (its `options` hold
the adapter's own settings: url, credentials, timeouts).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

DELIVERY_ID_HEADER = "X-Delivery-Id"
BULLETIN_ID_HEADER = "X-Bulletin-Id"
ATTEMPT_HEADER = "X-Delivery-Attempt"


class PushStatus(StrEnum):
    """The class of one push attempt (stored in `delivery_attempts.outcome`)."""

    DELIVERED = "delivered"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"
    THROTTLED = "throttled"
    REJECTED = "rejected"
    BAD_RECEIPT = "bad_receipt"  # set by the worker when a receipt fails verification

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE

    @property
    def counts_against_breaker(self) -> bool:
        """Failures that say the destination is unwell (not: it rejected our content)."""
        return self in _BREAKER_FAILURES


_RETRYABLE = frozenset({PushStatus.NETWORK_ERROR, PushStatus.TIMEOUT, PushStatus.SERVER_ERROR,
                        PushStatus.THROTTLED, PushStatus.BAD_RECEIPT})
_BREAKER_FAILURES = frozenset({PushStatus.NETWORK_ERROR, PushStatus.TIMEOUT, PushStatus.SERVER_ERROR,
                               PushStatus.THROTTLED})


@dataclass(frozen=True)
class OutgoingDelivery:
    """One attempt to push one bulletin to one destination."""

    delivery_id: str  # stable across attempts: the destination's de-duplication key
    bulletin_id: str
    destination: str
    signed: bytes  # the exact signed bulletin bytes, as stored
    attempt: int  # 1 for the first attempt

    def headers(self) -> dict[str, str]:
        """The headers an HTTP adapter sends with every attempt."""
        return {
            DELIVERY_ID_HEADER: self.delivery_id,
            BULLETIN_ID_HEADER: self.bulletin_id,
            ATTEMPT_HEADER: str(self.attempt),
            "Content-Type": "application/xml",
        }


@dataclass(frozen=True)
class PushResult:
    status: PushStatus
    http_status: int | None = None
    retry_after: float | None = None  # seconds, from Retry-After (429/503)
    receipt: bytes | None = None  # a synchronous receipt in the response body
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is PushStatus.DELIVERED

    @classmethod
    def ok(cls, receipt: bytes | None = None, http_status: int | None = 200) -> PushResult:
        return cls(PushStatus.DELIVERED, http_status=http_status, receipt=receipt)

    @classmethod
    def network_error(cls, error: BaseException | str) -> PushResult:
        return cls(PushStatus.NETWORK_ERROR, error=_describe(error))

    @classmethod
    def timed_out(cls, error: BaseException | str = "timed out") -> PushResult:
        return cls(PushStatus.TIMEOUT, error=_describe(error))

    @classmethod
    def from_http(
        cls, status_code: int, headers: Mapping[str, str] | None = None, body: bytes | None = None,
        *, now: dt.datetime | None = None,
    ) -> PushResult:
        """Classify an HTTP answer; a 2xx body that looks like XML is taken as a synchronous receipt."""
        headers = headers or {}
        status = classify_http(status_code)
        retry_after = parse_retry_after(_header(headers, "Retry-After"), now=now)
        if status is PushStatus.DELIVERED:
            receipt = body if body and body.lstrip()[:1] == b"<" else None
            return cls(status, http_status=status_code, receipt=receipt)
        error = f"HTTP {status_code}"
        if body:
            error += ": " + body[:500].decode("utf-8", "replace")
        return cls(status, http_status=status_code, retry_after=retry_after, error=error)


def classify_http(status_code: int) -> PushStatus:
    if 200 <= status_code < 300:
        return PushStatus.DELIVERED
    if status_code == 429:
        return PushStatus.THROTTLED
    if status_code == 408:
        return PushStatus.TIMEOUT
    if 400 <= status_code < 500:
        return PushStatus.REJECTED
    return PushStatus.SERVER_ERROR  # 5xx, and anything odd (1xx/3xx): try again later


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value


def _describe(error: BaseException | str) -> str:
    if isinstance(error, BaseException):
        text = str(error)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return error


@runtime_checkable
class Destination(Protocol):
    """A place bulletins are delivered to (one configured destination)."""

    name: str

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        """Send one attempt. Must not raise for transport failures: classify them instead."""
        ...

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        """Ask for the receipt of an earlier delivery; None if the destination has none yet."""
        ...

    async def aclose(self) -> None: ...
