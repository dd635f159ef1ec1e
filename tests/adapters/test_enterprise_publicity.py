"""The SOAP adapter: against its simulator over real loopback SOAP, and against respx; the
WSDL/XSD contract both sides share; external loading refused."""

from __future__ import annotations

import httpx
import pytest
import respx
import zeep
from adapter_helpers import config, delivery, receipt_trust, signed_bulletin
from lxml import etree

from adapters.enterprise_publicity import adapter as ep
from adapters.enterprise_publicity import factory
from adapters.enterprise_publicity import simulator as sim_module
from gateway.delivery.port import PushStatus
from gateway.delivery.receipts import verify_for_delivery

URL = "https://gsxt.example.gov.cn/exchange/soap"


def make(url: str = URL, **options):  # noqa: ANN003, ANN201
    return factory(config("publicity", "adapters.enterprise_publicity:factory", {"url": url, "timeout": 2, **options}))


# --- against the simulator (real SOAP over loopback) ---------------------------------------------


async def test_submit_bulletin_returns_a_receipt_that_verifies(simulator, gateway_key):
    sim, server = simulator("enterprise-publicity")
    adapter = make(sim.endpoint(server.url))
    sent = delivery(signed_bulletin(gateway_key))
    result = await adapter.push(sent)
    assert result.status is PushStatus.DELIVERED, result.error
    verified = verify_for_delivery(result.receipt, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                                   bulletin_id=sent.bulletin_id)
    assert [o.status for o in verified.outcomes] == ["accepted"]
    await adapter.aclose()


async def test_a_resent_delivery_is_applied_once_and_gets_the_same_receipt(simulator, gateway_key):
    sim, server = simulator("enterprise-publicity")
    adapter = make(sim.endpoint(server.url))
    sent = delivery(signed_bulletin(gateway_key))
    first = await adapter.push(sent)
    again = await adapter.push(delivery(sent.signed, delivery_id=sent.delivery_id, attempt=2))
    assert first.receipt == again.receipt
    assert sim.receiver.stats["applied"] == 1 and sim.receiver.stats["duplicates"] == 1
    await adapter.aclose()


async def test_a_bulletin_not_signed_by_the_pinned_gateway_key_is_a_client_fault(simulator, gateway_key, platform_key):
    sim, server = simulator("enterprise-publicity")
    adapter = make(sim.endpoint(server.url))
    result = await adapter.push(delivery(signed_bulletin(platform_key)))
    assert result.status is PushStatus.REJECTED
    assert "E_SIGNATURE" in result.error
    await adapter.aclose()


async def test_asynchronous_receipts_are_queued_then_answered_by_query_receipt(simulator, gateway_key):
    sim, server = simulator("enterprise-publicity", async_receipts=True, receipt_delay=0.2)
    adapter = make(sim.endpoint(server.url))
    sent = delivery(signed_bulletin(gateway_key))
    result = await adapter.push(sent)
    assert result.delivered and result.receipt is None
    assert await adapter.query_receipt(sent.delivery_id, sent.bulletin_id) is None
    import asyncio

    await asyncio.sleep(0.3)
    receipt = await adapter.query_receipt(sent.delivery_id, sent.bulletin_id)
    verify_for_delivery(receipt, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                        bulletin_id=sent.bulletin_id)
    assert await adapter.query_receipt("d-unknown", "bl-x") is None
    await adapter.aclose()


async def test_ws_security_signature_with_the_gateway_key(simulator, gateway_key, gateway_trust):
    pytest.importorskip("xmlsec", reason="WS-Security needs python-xmlsec (the 'wsse' extra; installed by make test)")
    sim, server = simulator("enterprise-publicity", require_wsse=True)
    url = sim.endpoint(server.url)
    unsigned = make(url)
    result = await unsigned.push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.REJECTED and "E_WSSE" in result.error
    signed = make(url, wsse=True, wsse_key_file=gateway_key.source,
                  wsse_cert_file=gateway_key.source.removesuffix(".key.pem") + ".cert.pem")
    result = await signed.push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.DELIVERED, result.error
    await unsigned.aclose()
    await signed.aclose()


# --- against respx: every answer class ---------------------------------------------------------


def _fault(faultcode: str, code: str, retry_after: int | None = None) -> bytes:
    return sim_module.fault(faultcode, code, "test fault", retry_after)


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(500, content=_fault("Client", "E_SCHEMA")), PushStatus.REJECTED),
    (httpx.Response(500, content=_fault("Server", "E_INTERNAL")), PushStatus.SERVER_ERROR),
    (httpx.Response(503, content=_fault("Server", "E_UNAVAILABLE", 30)), PushStatus.SERVER_ERROR),
    (httpx.Response(502, content=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"}),
     PushStatus.SERVER_ERROR),
    (httpx.Response(200, content=b"not xml at all"), PushStatus.SERVER_ERROR),
    (httpx.Response(401, content=b""), PushStatus.REJECTED),
])
@respx.mock
async def test_soap_answers_are_classified(gateway_key, response, expected):
    respx.post(URL).mock(return_value=response)
    result = await make().push(delivery(signed_bulletin(gateway_key)))
    assert result.status is expected, result


@respx.mock
async def test_a_throttling_fault_is_throttled_with_retry_after(gateway_key):
    respx.post(URL).mock(return_value=httpx.Response(429, content=_fault("Server", "E_THROTTLED", 12),
                                                     headers={"Retry-After": "12"}))
    result = await make().push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.THROTTLED and result.retry_after == 12 and result.http_status == 429
    respx.post(URL).mock(return_value=httpx.Response(500, content=_fault("Server", "E_THROTTLED", 9)))
    result = await make().push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.THROTTLED and result.retry_after == 9  # from the fault detail


@respx.mock
async def test_soap_timeouts_and_connection_failures(gateway_key):
    respx.post(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    assert (await make().push(delivery(signed_bulletin(gateway_key)))).status is PushStatus.TIMEOUT
    respx.post(URL).mock(side_effect=httpx.ConnectError("refused"))
    assert (await make().push(delivery(signed_bulletin(gateway_key)))).status is PushStatus.NETWORK_ERROR


@respx.mock
async def test_the_request_validates_against_the_shipped_xsd_and_carries_the_bulletin_bytes(gateway_key):
    receipt_less = sim_module.envelope(sim_module._element(
        "SubmitBulletinResponse", [("DeliveryId", "d-1"), ("Status", "queued")]))
    route = respx.post(URL).mock(return_value=httpx.Response(200, content=receipt_less,
                                                             headers={"Content-Type": "text/xml"}))
    sent = delivery(signed_bulletin(gateway_key), delivery_id="d-1")
    assert (await make().push(sent)).delivered
    request = route.calls.last.request
    env = etree.fromstring(request.content)
    payload = env.find(f"{{{sim_module.SOAP_ENV}}}Body/*")
    assert sim_module.validate(payload) == []
    import base64

    assert base64.b64decode(payload.findtext(sim_module.p("Bulletin"))) == sent.signed
    assert request.headers["SOAPAction"].strip('"') == "urn:safety-credit:publicity:SubmitBulletin"


# --- the contract and the loading rules ------------------------------------------------------------


async def test_the_simulator_serves_the_shipped_wsdl_and_xsd(simulator):
    sim, server = simulator("enterprise-publicity")
    async with httpx.AsyncClient() as client:
        wsdl = (await client.get(f"{server.url}/publicity/soap?wsdl")).content
        xsd = (await client.get(f"{server.url}/publicity/service.xsd")).content
    shipped = ep.WSDL.read_bytes()
    assert wsdl == shipped.replace(sim_module.PLACEHOLDER_ADDRESS.encode(), f"{server.url}/publicity/soap".encode())
    assert sim_module.PLACEHOLDER_ADDRESS.encode() in shipped
    assert xsd == ep.XSD.read_bytes()


def test_every_simulator_answer_validates_against_the_xsd():
    for answer in (sim_module._element("SubmitBulletinResponse", [("DeliveryId", "d-1"), ("Status", "accepted"),
                                                                  ("Receipt", "PFI+")]),
                   sim_module._element("QueryReceiptResponse", [("DeliveryId", "d-1"), ("Status", "pending")])):
        assert sim_module.validate(answer) == []


def test_the_transport_refuses_to_load_anything_outside_the_package(tmp_path):
    transport = ep.LoopbackOnlyTransport(URL, client=httpx.AsyncClient(), timeout=1)
    assert transport.load(str(ep.WSDL)).startswith(b"<?xml")
    for url in ("http://schemas.example.com/evil.xsd", "https://127.0.0.1/x.wsdl", str(tmp_path / "x.xsd"),
                f"file://{tmp_path}/x.xsd"):
        with pytest.raises(ep.LoadRefused):
            transport.load(url)
    with pytest.raises(ep.LoadRefused):
        transport._check("https://elsewhere.example/soap")


def test_a_wsdl_importing_an_external_schema_is_refused(tmp_path):
    hostile = tmp_path / "hostile.wsdl"
    hostile.write_bytes(ep.WSDL.read_bytes().replace(b'schemaLocation="service.xsd"',
                                                      b'schemaLocation="http://evil.example/service.xsd"'))
    transport = ep.LoopbackOnlyTransport(URL, client=httpx.AsyncClient(), timeout=1, allowed_dir=tmp_path)
    with pytest.raises(zeep.exceptions.Error):
        zeep.AsyncClient(str(hostile), transport=transport, settings=ep.SETTINGS)


def test_the_shipped_wsdl_declares_both_operations():
    client = zeep.Client(str(ep.WSDL), settings=ep.SETTINGS,
                         transport=ep.LoopbackOnlyTransport(URL, client=httpx.AsyncClient(), timeout=1))
    ops = set(client.wsdl.bindings[ep.BINDING]._operations)
    assert {"SubmitBulletin", "QueryReceipt"} <= ops
