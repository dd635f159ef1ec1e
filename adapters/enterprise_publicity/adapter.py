"""The enterprise credit publicity adapter (企业信用信息公示系统, national and provincial):
SOAP 1.1 over zeep, with the WSDL and schema shipped in this package.

    SubmitBulletin(DeliveryId, BulletinId, Attempt, Bulletin: base64Binary)
        → Status accepted + Receipt (base64Binary, the signed receipt) | Status queued
    QueryReceipt(DeliveryId, BulletinId) → Status found + Receipt | pending | unknown
    soap:Fault with detail ServiceFault(Code, Message, RetryAfter?)

Safety: the WSDL is read from `service.wsdl` beside this file with zeep's
`Settings(forbid_external=True, forbid_dtd=True, forbid_entities=True)`, and the transport
(`LoopbackOnlyTransport`) refuses to load anything but files in this package and to POST
anywhere but the configured endpoint, so a hostile or altered WSDL cannot make the gateway
fetch or send elsewhere. Every call has a timeout (`options.timeout`, default 10 s) on the
httpx client and, as a backstop, around the whole operation.

Classification (the port's classes): httpx timeouts → timeout; connection failures →
network_error; HTTP answers without a SOAP envelope (429 + Retry-After, 502 from a proxy)
→ `PushResult.from_http`; a soap:Fault with faultcode Client → rejected (our content was
refused), Server → server_error (with RetryAfter from the detail when given); an answer
zeep cannot read → server_error (the platform de-duplicates by DeliveryId, so a resend is safe).

Options:

    url:            the service endpoint (required), e.g. https://gsxt.example/exchange/soap
    timeout:        seconds per operation (default 10); connect_timeout (default 5)
    wsse:           false (default) | true: WS-Security signature of the envelope with the
                    gateway key (keys_dir: the gateway keyring, default var/keys; or
                    wsse_key_file + wsse_cert_file)
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import zeep
import zeep.exceptions
from lxml import etree
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from adapters import _http
from gateway.delivery.port import OutgoingDelivery, PushResult, PushStatus

HERE = Path(__file__).resolve().parent
WSDL = HERE / "service.wsdl"
XSD = HERE / "service.xsd"
NS = "urn:safety-credit:publicity:1"
BINDING = "{urn:safety-credit:publicity:service:1}PublicityExchangeBinding"
SETTINGS = zeep.Settings(strict=True, forbid_external=True, forbid_dtd=True, forbid_entities=True,
                         force_https=False)

# The HTTP responses of the operation running in this task (zeep keeps only the body).
_responses: contextvars.ContextVar[list[httpx.Response] | None] = contextvars.ContextVar("soap_responses",
                                                                                          default=None)


class LoadRefused(zeep.exceptions.Error):
    """The transport was asked for something outside the package or the configured endpoint."""


def _refuse(request: httpx.Request) -> httpx.Response:
    raise LoadRefused(f"refusing to fetch {request.url}: WSDL and schemas are loaded from the package only")


class LoopbackOnlyTransport(AsyncTransport):
    """zeep's AsyncTransport over httpx that loads only package files and posts only to `endpoint`."""

    def __init__(self, endpoint: str, *, client: httpx.AsyncClient, timeout: float,
                 allowed_dir: Path = HERE) -> None:
        super().__init__(client=client, wsdl_client=httpx.Client(transport=httpx.MockTransport(_refuse)),
                         timeout=timeout, operation_timeout=timeout)
        self.endpoint = endpoint
        self.allowed_dir = allowed_dir.resolve()

    def load(self, url: str) -> bytes:
        parts = urlsplit(str(url))
        if parts.scheme not in ("", "file"):
            raise LoadRefused(f"refusing to load {url}: only files shipped in {self.allowed_dir}")
        path = Path(parts.path if parts.scheme == "file" else str(url)).resolve()
        if not path.is_relative_to(self.allowed_dir):
            raise LoadRefused(f"refusing to load {path}: outside {self.allowed_dir}")
        return path.read_bytes()

    def _check(self, address: str) -> None:
        if address != self.endpoint:
            raise LoadRefused(f"refusing to send to {address}: the configured endpoint is {self.endpoint}")

    async def post(self, address, message, headers):  # noqa: ANN001, ANN201
        self._check(address)
        response = await super().post(address, message, headers)
        holder = _responses.get()
        if holder is not None:
            holder.append(response)
        return response

    async def get(self, address, params, headers):  # noqa: ANN001, ANN201
        self._check(address)
        return await super().get(address, params, headers)


def _sign_only(key_file: str, cert_file: str):  # noqa: ANN201
    """WS-Security signature on requests; answers need not be signed (their receipt is
    XML-DSig signed and verified by the worker against the pinned certificate)."""
    from zeep.wsse.signature import BinarySignature

    class SignOnly(BinarySignature):
        def verify(self, envelope):  # noqa: ANN001, ANN201
            return envelope

    return SignOnly(key_file, cert_file)


def _fault_detail(fault: zeep.exceptions.Fault) -> tuple[str | None, str | None]:
    detail = fault.detail
    if not isinstance(detail, etree._Element):
        return None, None
    el = detail.find(f"{{{NS}}}ServiceFault")
    if el is None:
        return None, None
    return el.findtext(f"{{{NS}}}Code"), el.findtext(f"{{{NS}}}RetryAfter")


class EnterprisePublicityDestination:
    def __init__(self, name: str, url: str, *, timeout: float = 10.0, connect_timeout: float = 5.0,
                 wsse: Any = None, client: httpx.AsyncClient | None = None) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.wsse = wsse
        self._client = client
        self._zeep: zeep.AsyncClient | None = None
        self._service: AsyncServiceProxy | None = None

    @property
    def service(self) -> AsyncServiceProxy:
        if self._service is None:  # built inside the running loop (the httpx client is loop-bound)
            client = self._client or httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, self.connect_timeout)),
                follow_redirects=False)
            transport = LoopbackOnlyTransport(self.url, client=client, timeout=self.timeout)
            self._zeep = zeep.AsyncClient(str(WSDL), transport=transport, settings=SETTINGS, wsse=self.wsse)
            self._service = AsyncServiceProxy(self._zeep, self._zeep.wsdl.bindings[BINDING], address=self.url)
        return self._service

    async def _call(self, operation: str, **kw: Any) -> tuple[Any, PushResult | None]:
        holder: list[httpx.Response] = []
        token = _responses.set(holder)
        try:
            result = await asyncio.wait_for(getattr(self.service, operation)(**kw), self.timeout + 1)
            return result, None
        except (TimeoutError, httpx.TimeoutException) as exc:
            return None, PushResult.timed_out(exc if str(exc) else f"no answer within {self.timeout:g}s")
        except (httpx.TransportError, OSError) as exc:
            return None, PushResult.network_error(exc)
        except zeep.exceptions.Fault as fault:
            return None, self._classify_fault(fault, holder[-1] if holder else None)
        except zeep.exceptions.TransportError as exc:
            response = holder[-1] if holder else None
            headers = response.headers if response is not None else {}
            if exc.status_code and 200 <= exc.status_code < 300:  # a 2xx zeep cannot read: not an answer
                return None, PushResult(PushStatus.SERVER_ERROR, http_status=exc.status_code,
                                        error=f"unreadable SOAP answer: {exc}"[:500])
            return None, PushResult.from_http(exc.status_code or 502, headers, exc.content or None)
        except LoadRefused as exc:
            return None, PushResult(PushStatus.REJECTED, error=str(exc))
        except (zeep.exceptions.Error, etree.LxmlError, ValueError) as exc:
            status = holder[-1].status_code if holder else None
            return None, PushResult(PushStatus.SERVER_ERROR, http_status=status,
                                    error=f"unreadable SOAP answer: {type(exc).__name__}: {exc}"[:500])
        finally:
            _responses.reset(token)

    @staticmethod
    def _classify_fault(fault: zeep.exceptions.Fault, response: httpx.Response | None) -> PushResult:
        if fault.code is None and response is not None:  # XML, but no soap:Fault: judge by the HTTP status
            status = response.status_code if response.status_code != 200 else 502
            return dataclasses.replace(PushResult.from_http(status, response.headers, response.content),
                                       http_status=response.status_code)
        code, retry_after = _fault_detail(fault)
        faultcode = (fault.code or "").rsplit(":", 1)[-1]
        if code == "E_THROTTLED":
            equivalent = 429
        elif faultcode == "Client":
            equivalent = 400
        else:
            equivalent = 503 if code == "E_UNAVAILABLE" else 500
        headers = dict(response.headers) if response is not None else {}
        if retry_after and "retry-after" not in {k.lower() for k in headers}:
            headers["Retry-After"] = retry_after
        body = f"soap:Fault {fault.code} {code or ''}: {fault.message}".encode()
        result = PushResult.from_http(equivalent, headers, body)
        return dataclasses.replace(result, http_status=response.status_code if response is not None else None)

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        answer, failed = await self._call("SubmitBulletin", DeliveryId=delivery.delivery_id,
                                          BulletinId=delivery.bulletin_id, Attempt=max(1, delivery.attempt),
                                          Bulletin=delivery.signed)
        if failed is not None:
            return failed
        if answer is None or answer.Status not in ("accepted", "queued"):
            return PushResult(PushStatus.SERVER_ERROR, http_status=200, error="SubmitBulletin: no status in the answer")
        receipt = answer.Receipt if answer.Status == "accepted" else None
        return PushResult.ok(receipt=receipt or None, http_status=200)

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        answer, failed = await self._call("QueryReceipt", DeliveryId=delivery_id, BulletinId=bulletin_id)
        if failed is not None or answer is None or answer.Status != "found":
            return None
        return answer.Receipt or None

    async def aclose(self) -> None:
        if self._zeep is not None:
            await self._zeep.transport.aclose()
        elif self._client is not None:
            await self._client.aclose()
        self._zeep = self._service = None


def _wsse(config: Any) -> Any:
    if not _http.option(config, "wsse", False):
        return None
    key_file, cert_file = _http.option(config, "wsse_key_file"), _http.option(config, "wsse_cert_file")
    if not (key_file and cert_file):
        from gateway.paths import ROOT
        from gateway.signing.keys import load_keyring

        keys_dir = Path(_http.option(config, "keys_dir", "var/keys"))
        key = load_keyring(keys_dir if keys_dir.is_absolute() else ROOT / keys_dir).active
        if not key.source.endswith(".key.pem"):
            raise _http.AdapterConfigError(f"destination {config.name!r}: wsse needs a PEM key "
                                           "(wsse_key_file + wsse_cert_file)")
        key_file, cert_file = key.source, key.source.removesuffix(".key.pem") + ".cert.pem"
    return _sign_only(str(key_file), str(cert_file))


def factory(config: Any) -> EnterprisePublicityDestination:
    """Build from a `DestinationConfig` (`adapter: adapters.enterprise_publicity:factory`)."""
    return EnterprisePublicityDestination(
        config.name,
        _http.option(config, "url", required=True),
        timeout=float(_http.option(config, "timeout", _http.DEFAULT_TIMEOUT)),
        connect_timeout=float(_http.option(config, "connect_timeout", 5.0)),
        wsse=_wsse(config),
    )

