"""The simulators: request authentication, apply-once (across a restart), asynchronous
receipts, and every fault flag as the adapters see it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from adapter_helpers import config, delivery, list_item, receipt_trust, signed_bulletin

from adapters._sim.faults import Faults, FaultState, parse_window
from adapters._sim.http import ServerThread
from adapters.bureaus import factory as bureau_factory
from adapters.bureaus import webhook
from adapters.credit_china import auth
from adapters.credit_china import factory as cc_factory
from adapters.credit_china.simulator import DEFAULT_APP_KEY, DEFAULT_APP_SECRET
from gateway.delivery.port import DELIVERY_ID_HEADER, PushStatus
from gateway.delivery.receipts import verify_for_delivery
from gateway.signing.receipt import ReceiptInvalid


def cc_adapter(sim, server, *, secret: str = DEFAULT_APP_SECRET, timeout: float = 3):  # noqa: ANN001, ANN201
    return cc_factory(config("cc", "adapters.credit_china:factory",
                             {"url": sim.endpoint(server.url), "app_key": DEFAULT_APP_KEY, "app_secret": secret,
                              "timeout": timeout}))


async def raw_push(server, body: bytes, delivery_id: str, *, now: float | None = None, nonce: str | None = None,  # noqa: ANN001
                   secret: str = DEFAULT_APP_SECRET, method_name: str | None = None) -> httpx.Response:
    headers = auth.sign_request(DEFAULT_APP_KEY, secret, "POST", "/api/v1/bulletins", body, now=now, nonce=nonce)
    if method_name:
        headers[auth.SIGNATURE_METHOD] = method_name
    headers[DELIVERY_ID_HEADER] = delivery_id
    async with httpx.AsyncClient() as client:
        return await client.post(f"{server.url}/api/v1/bulletins", content=body, headers=headers)


# --- credit-china: HMAC -----------------------------------------------------------------------------


async def test_credit_china_accepts_a_correctly_signed_push(simulator, gateway_key):
    sim, server = simulator("credit-china")
    sent = delivery(signed_bulletin(gateway_key))
    response = await raw_push(server, sent.signed, sent.delivery_id)
    assert response.status_code == 200
    verify_for_delivery(response.content, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                        bulletin_id=sent.bulletin_id)


@pytest.mark.parametrize(("kw", "reason"), [
    ({"now": -301}, "stale timestamp"),  # seconds from now, computed when the test runs
    ({"now": +400}, "stale timestamp"),
    ({"secret": "the-wrong-secret"}, "bad signature"),
    ({"method_name": "MD5"}, "not accepted"),
])
async def test_credit_china_refuses_bad_authentication_with_401(simulator, gateway_key, kw, reason):
    sim, server = simulator("credit-china")
    sent = delivery(signed_bulletin(gateway_key))
    if "now" in kw:  # not at collection time: a long suite would make the offset stale itself
        kw = {**kw, "now": time.time() + kw["now"]}
    response = await raw_push(server, sent.signed, sent.delivery_id, **kw)
    assert response.status_code == 401
    assert reason in response.json()["message"]
    assert sim.receiver.store.get(sent.delivery_id) is None


async def test_credit_china_refuses_a_replayed_nonce(simulator, gateway_key):
    sim, server = simulator("credit-china")
    sent = delivery(signed_bulletin(gateway_key))
    assert (await raw_push(server, sent.signed, sent.delivery_id, nonce="n-1")).status_code == 200
    replay = await raw_push(server, sent.signed, sent.delivery_id, nonce="n-1")
    assert replay.status_code == 401 and "replayed nonce" in replay.json()["message"]


async def test_credit_china_refuses_an_unknown_app_key_and_a_tampered_body(simulator, gateway_key):
    sim, server = simulator("credit-china", app_secrets={"someone-else": "x"})
    sent = delivery(signed_bulletin(gateway_key))
    assert (await raw_push(server, sent.signed, sent.delivery_id)).status_code == 401
    verifier = auth.Verifier({"k": "s"})
    headers = auth.sign_request("k", "s", "POST", "/p", b"body")
    with pytest.raises(auth.AuthError, match="does not match the body"):
        verifier.verify("POST", "/p", headers, b"tampered")


async def test_the_adapter_and_the_simulator_agree_and_a_wrong_key_is_rejected(simulator, gateway_key):
    sim, server = simulator("credit-china")
    sent = delivery(signed_bulletin(gateway_key))
    assert (await cc_adapter(sim, server, secret="wrong").push(sent)).status is PushStatus.REJECTED
    assert (await cc_adapter(sim, server).push(sent)).status is PushStatus.DELIVERED


# --- apply once ---------------------------------------------------------------------------------------


async def test_a_duplicate_delivery_id_is_applied_once_even_after_a_restart(simulator, gateway_key, tmp_path):
    data_dir = tmp_path / "cc-state"
    sim, server = simulator("credit-china", data_dir=data_dir)
    sent = delivery(signed_bulletin(gateway_key))
    first = await cc_adapter(sim, server).push(sent)
    second = await cc_adapter(sim, server).push(sent)
    assert first.receipt == second.receipt
    assert sim.receiver.stats["applied"] == 1 and sim.receiver.stats["duplicates"] == 1
    server.stop()
    sim.receiver.store.close()
    sim2, server2 = simulator("credit-china", data_dir=data_dir)  # restarted: same SQLite file
    third = await cc_adapter(sim2, server2).push(sent)
    assert third.receipt == first.receipt
    assert sim2.receiver.stats["applied"] == 0 and sim2.receiver.store.get(sent.delivery_id).deliveries == 3


async def test_a_bulletin_not_signed_by_the_gateway_is_refused_with_400(simulator, platform_key):
    sim, server = simulator("credit-china")
    result = await cc_adapter(sim, server).push(delivery(signed_bulletin(platform_key)))
    assert result.status is PushStatus.REJECTED and result.http_status == 400


# --- asynchronous receipts ------------------------------------------------------------------------------


async def test_async_receipts_answer_202_and_are_served_by_the_query_endpoint(simulator, gateway_key):
    sim, server = simulator("credit-china", async_receipts=True, receipt_delay=0.2)
    adapter = cc_adapter(sim, server)
    sent = delivery(signed_bulletin(gateway_key))
    result = await adapter.push(sent)
    assert result.delivered and result.http_status == 202 and result.receipt is None
    assert await adapter.query_receipt(sent.delivery_id, sent.bulletin_id) is None
    await asyncio.sleep(0.3)
    receipt = await adapter.query_receipt(sent.delivery_id, sent.bulletin_id)
    verify_for_delivery(receipt, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                        bulletin_id=sent.bulletin_id)


async def test_async_receipts_are_posted_to_the_gateway_callback(simulator, gateway_key):
    received: list[tuple[bytes, str]] = []

    async def gateway_app(scope, receive, send):  # noqa: ANN001
        message = await receive()
        headers = dict(scope["headers"])
        received.append((message.get("body", b""), headers.get(b"authorization", b"").decode()))
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    gateway = ServerThread(gateway_app).start()
    try:
        sim, server = simulator("bureau", async_receipts=True, receipt_delay=0.1, hmac_secret="s",
                                callback_url=f"{gateway.url}/v1/receipts", callback_token="gw_k_secret")
        adapter = bureau_factory(config("b", "adapters.bureaus:factory", {"url": sim.endpoint(server.url), "secret": "s"},
                                        subscription={"sector": "land"}))
        sent = delivery(signed_bulletin(gateway_key, [list_item()]))
        assert (await adapter.push(sent)).http_status == 202
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
        body, authorization = received[0]
        assert authorization == "Bearer gw_k_secret"
        verify_for_delivery(body, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                            bulletin_id=sent.bulletin_id)
    finally:
        gateway.stop()


# --- bureau simulator ---------------------------------------------------------------------------------------


async def test_the_bureau_simulator_checks_the_webhook_signature(simulator, gateway_key):
    sim, server = simulator("bureau", hmac_secret="right")
    sent = delivery(signed_bulletin(gateway_key, [list_item()]))
    headers = {**sent.headers(), **webhook.sign(sent.signed, sent.delivery_id, secret="wrong")}
    async with httpx.AsyncClient() as client:
        response = await client.post(sim.endpoint(server.url), content=sent.signed, headers=headers)
    assert response.status_code == 401
    key_signed = {**sent.headers(), **webhook.sign(sent.signed, sent.delivery_id, key=gateway_key)}
    async with httpx.AsyncClient() as client:
        response = await client.post(sim.endpoint(server.url), content=sent.signed, headers=key_signed)
    assert response.status_code == 200


async def test_the_bureau_simulator_rejects_items_for_another_sector(simulator, gateway_key):
    sim, server = simulator("bureau", hmac_secret="s", sectors=("finance",))
    sent = delivery(signed_bulletin(gateway_key, [list_item("it-a", ("finance",)), list_item("it-b", ("land",))]))
    headers = {**sent.headers(), **webhook.sign(sent.signed, sent.delivery_id, secret="s")}
    async with httpx.AsyncClient() as client:
        response = await client.post(sim.endpoint(server.url), content=sent.signed, headers=headers)
    verified = verify_for_delivery(response.content, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                                   bulletin_id=sent.bulletin_id)
    by_item = {o.item_id: (o.status, o.code) for o in verified.outcomes}
    assert by_item == {"it-a": ("accepted", None), "it-b": ("rejected", "E_SECTOR")}


# --- fault flags -------------------------------------------------------------------------------------------


async def test_error_rate_one_answers_5xx(simulator, gateway_key):
    sim, server = simulator("credit-china", faults=FaultState(Faults(error_rate=1.0)))
    result = await cc_adapter(sim, server).push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.SERVER_ERROR and result.http_status == 500
    assert sim.receiver.stats["requests"] == 0  # refused before it reached the platform


async def test_rate_limit_answers_429_with_retry_after(simulator, gateway_key):
    sim, server = simulator("credit-china", faults=FaultState(Faults(rate_limit=2)))
    adapter = cc_adapter(sim, server)
    results = [await adapter.push(delivery(signed_bulletin(gateway_key))) for _ in range(4)]
    assert [r.status for r in results[:2]] == [PushStatus.DELIVERED] * 2
    assert results[2].status is PushStatus.THROTTLED and results[2].http_status == 429
    assert results[2].retry_after is not None and results[2].retry_after >= 1


async def test_down_for_answers_503_with_retry_after_then_recovers(simulator, gateway_key):
    sim, server = simulator("bureau", hmac_secret="s", faults=FaultState(Faults(down_for=0.6)))
    adapter = bureau_factory(config("b", "adapters.bureaus:factory", {"url": sim.endpoint(server.url), "secret": "s"},
                                    subscription={"sector": "land"}))
    down = await adapter.push(delivery(signed_bulletin(gateway_key, [list_item()])))
    assert down.status is PushStatus.SERVER_ERROR and down.http_status == 503 and down.retry_after == 1
    await asyncio.sleep(0.7)
    assert (await adapter.push(delivery(signed_bulletin(gateway_key, [list_item()])))).delivered


def test_down_between_covers_a_window_that_wraps_midnight():
    import datetime as dt

    state = FaultState(Faults(down_between=parse_window("23:30-00:30")))
    assert state.decide(now_local=dt.datetime(2026, 11, 22, 23, 45)).retry_after == 45 * 60
    assert state.decide(now_local=dt.datetime(2026, 11, 23, 0, 10)).kind == "down"
    assert state.decide(now_local=dt.datetime(2026, 11, 23, 0, 31)) is None


async def test_timeout_rate_one_hangs_until_the_adapter_times_out(simulator, gateway_key):
    sim, server = simulator("credit-china", faults=FaultState(Faults(timeout_rate=1.0, hang_seconds=5)))
    result = await cc_adapter(sim, server, timeout=0.3).push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.TIMEOUT


async def test_reset_rate_one_is_a_network_error(simulator, gateway_key):
    sim, server = simulator("credit-china", faults=FaultState(Faults(reset_rate=1.0)))
    result = await cc_adapter(sim, server).push(delivery(signed_bulletin(gateway_key)))
    assert result.status is PushStatus.NETWORK_ERROR


@pytest.mark.parametrize("fault", ["malformed_receipts", "unsigned_receipts"])
async def test_spoiled_receipts_do_not_verify(simulator, gateway_key, fault):
    sim, server = simulator("credit-china", faults=FaultState(Faults(**{fault: True})))
    sent = delivery(signed_bulletin(gateway_key))
    result = await cc_adapter(sim, server).push(sent)
    assert result.delivered
    with pytest.raises(ReceiptInvalid):
        verify_for_delivery(result.receipt, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                            bulletin_id=sent.bulletin_id)


async def test_reject_items_rejects_those_items_in_the_receipt(simulator, gateway_key):
    from adapter_helpers import penalty_item

    sim, server = simulator("credit-china", faults=FaultState(Faults(reject_items=frozenset({"it-2"}))))
    sent = delivery(signed_bulletin(gateway_key, [penalty_item("it-1"), penalty_item("it-2")]))
    result = await cc_adapter(sim, server).push(sent)
    verified = verify_for_delivery(result.receipt, receipt_trust(sim), sent.signed, delivery_id=sent.delivery_id,
                                   bulletin_id=sent.bulletin_id)
    assert {o.item_id: str(o.status) for o in verified.outcomes} == {"it-1": "accepted", "it-2": "rejected"}


async def test_faults_can_be_switched_at_run_time(simulator, gateway_key):
    sim, server = simulator("credit-china")
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{server.url}/_sim/faults", json={"error_rate": 1.0, "reject_items": "0.5"})
        assert answer.json()["error_rate"] == 1.0 and answer.json()["reject_rate"] == 0.5
        assert (await cc_adapter(sim, server).push(delivery(signed_bulletin(gateway_key)))).status is PushStatus.SERVER_ERROR
        await client.post(f"{server.url}/_sim/faults", json={"error_rate": 0})
        assert (await cc_adapter(sim, server).push(delivery(signed_bulletin(gateway_key)))).delivered
        stats = (await client.get(f"{server.url}/_sim/stats")).json()
        assert stats["applied"] == 1 and stats["faults_injected"] == {"error": 1}
        assert (await client.post(f"{server.url}/_sim/faults", json={"nonsense": 1})).status_code == 400


async def test_soap_simulator_faults_come_back_as_soap_faults(simulator, gateway_key):
    from adapters.enterprise_publicity import factory as ep_factory

    sim, server = simulator("enterprise-publicity", faults=FaultState(Faults(rate_limit=1)))
    adapter = ep_factory(config("p", "adapters.enterprise_publicity:factory", {"url": sim.endpoint(server.url)}))
    first = await adapter.push(delivery(signed_bulletin(gateway_key)))
    second = await adapter.push(delivery(signed_bulletin(gateway_key)))
    assert first.delivered
    assert second.status is PushStatus.THROTTLED and second.retry_after >= 1 and second.http_status == 429
    await adapter.aclose()
