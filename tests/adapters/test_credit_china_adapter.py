"""The 信用中国 adapter against respx: every response class, the HMAC headers, receipt queries."""

from __future__ import annotations

import httpx
import pytest
import respx
from adapter_helpers import config, delivery, signed_bulletin

from adapters.credit_china import auth, factory
from gateway.delivery.port import PushStatus
from gateway.delivery.receipts import verify_for_delivery
from gateway.signing.dsig import reference_digests
from gateway.signing.receipt import ItemOutcome, ReceiptInvalid, build_receipt

BASE = "https://credit.example.gov.cn/api/v1"
SECRET = "s3cret-for-tests"


@pytest.fixture
def adapter():
    return factory(config("credit-china", "adapters.credit_china:factory",
                          {"url": BASE, "app_key": "gw", "app_secret": SECRET, "timeout": 2}))


@pytest.fixture
def sent(gateway_key):
    signed = signed_bulletin(gateway_key)
    return delivery(signed)


def receipt_for(sent, key) -> bytes:  # noqa: ANN001
    return build_receipt(reference_digests(sent.signed), [ItemOutcome("it-penalty-1", "accepted")], key=key,
                         delivery_id=sent.delivery_id, receiver="creditchina", bulletin_id=sent.bulletin_id)


@respx.mock
async def test_success_with_a_signed_receipt_is_delivered_and_the_receipt_verifies(adapter, sent, platform_key,
                                                                                     platform_trust):
    receipt = receipt_for(sent, platform_key)
    route = respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(
        200, content=receipt, headers={"Content-Type": "application/xml"}))
    result = await adapter.push(sent)
    assert result.status is PushStatus.DELIVERED and result.receipt == receipt
    verified = verify_for_delivery(result.receipt, platform_trust, sent.signed, delivery_id=sent.delivery_id,
                                   bulletin_id=sent.bulletin_id)
    assert verified.all_accepted
    request = route.calls.last.request
    assert request.content == sent.signed
    assert request.headers["X-Delivery-Id"] == sent.delivery_id
    assert request.headers["Content-Type"] == "application/xml"
    verifier = auth.Verifier({"gw": SECRET})
    assert verifier.verify("POST", request.url.path, dict(request.headers), request.content) == "gw"
    await adapter.aclose()


@respx.mock
async def test_the_signature_is_hmac_sha256_over_method_path_time_nonce_and_body_digest(adapter, sent):
    route = respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(202))
    await adapter.push(sent)
    h = route.calls.last.request.headers
    assert h["X-Signature-Method"] == "HMAC-SHA256"
    assert h["X-Content-SHA256"] == auth.body_digest(sent.signed)
    assert h["X-Signature"] == auth.signature(SECRET, "POST", "/api/v1/bulletins", h["X-Timestamp"], h["X-Nonce"],
                                              h["X-Content-SHA256"])
    await adapter.push(sent)
    assert route.calls[0].request.headers["X-Nonce"] != route.calls[1].request.headers["X-Nonce"]


@respx.mock
async def test_202_is_delivered_without_a_receipt(adapter, sent):
    respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(202, json={"status": "queued"}))
    result = await adapter.push(sent)
    assert result.status is PushStatus.DELIVERED and result.receipt is None


@pytest.mark.parametrize(("status", "expected"), [
    (400, PushStatus.REJECTED), (401, PushStatus.REJECTED), (422, PushStatus.REJECTED),
    (500, PushStatus.SERVER_ERROR), (502, PushStatus.SERVER_ERROR), (503, PushStatus.SERVER_ERROR),
    (408, PushStatus.TIMEOUT),
])
@respx.mock
async def test_http_errors_are_classified(adapter, sent, status, expected):
    respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(status, json={"code": "E"}))
    result = await adapter.push(sent)
    assert result.status is expected and result.http_status == status


@respx.mock
async def test_429_is_throttled_with_retry_after(adapter, sent):
    respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(429, headers={"Retry-After": "17"}))
    result = await adapter.push(sent)
    assert result.status is PushStatus.THROTTLED and result.retry_after == 17


@respx.mock
async def test_a_timeout_is_classified_timeout(adapter, sent):
    respx.post(f"{BASE}/bulletins").mock(side_effect=httpx.ReadTimeout("slow"))
    assert (await adapter.push(sent)).status is PushStatus.TIMEOUT


@respx.mock
async def test_a_refused_connection_is_a_network_error(adapter, sent):
    respx.post(f"{BASE}/bulletins").mock(side_effect=httpx.ConnectError("refused"))
    assert (await adapter.push(sent)).status is PushStatus.NETWORK_ERROR


@respx.mock
async def test_a_bad_receipt_is_delivered_but_fails_verification(adapter, sent, platform_trust, gateway_key):
    forged = receipt_for(sent, gateway_key)  # signed, but not by the platform's pinned key
    for body in (b"<Receipt>broken", forged):
        respx.post(f"{BASE}/bulletins").mock(return_value=httpx.Response(200, content=body))
        result = await adapter.push(sent)
        assert result.delivered and result.receipt == body
        with pytest.raises(ReceiptInvalid):
            verify_for_delivery(result.receipt, platform_trust, sent.signed, delivery_id=sent.delivery_id,
                                bulletin_id=sent.bulletin_id)


@respx.mock
async def test_query_receipt_gets_the_receipt_or_none(adapter, sent, platform_key):
    receipt = receipt_for(sent, platform_key)
    route = respx.get(f"{BASE}/receipts/{sent.delivery_id}").mock(side_effect=[
        httpx.Response(202, json={"status": "pending"}), httpx.Response(200, content=receipt)])
    assert await adapter.query_receipt(sent.delivery_id, sent.bulletin_id) is None
    assert await adapter.query_receipt(sent.delivery_id, sent.bulletin_id) == receipt
    request = route.calls.last.request
    auth.Verifier({"gw": SECRET}).verify("GET", request.url.path, dict(request.headers), b"")


def test_the_secret_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CC_SECRET", "from-env")
    a = factory(config("cc", "adapters.credit_china:factory", {"url": BASE, "app_key": "k", "app_secret_env": "CC_SECRET"}))
    assert a._secret == "from-env"
    monkeypatch.delenv("CC_SECRET")
    with pytest.raises(ValueError, match="CC_SECRET"):
        factory(config("cc", "adapters.credit_china:factory", {"url": BASE, "app_key": "k", "app_secret_env": "CC_SECRET"}))
