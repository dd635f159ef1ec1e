"""The bureau webhook adapter: signatures, response classes, and the sector guard (docs/policy.md §9)."""

from __future__ import annotations

import time

import httpx
import pytest
import respx
from adapter_helpers import config, delivery, list_item, penalty_item, signed_bulletin

from adapters.bureaus import factory, webhook
from adapters.bureaus.guard import SectorGuard
from gateway.delivery.port import PushStatus
from gateway.publication.bulletin import BulletinItem
from gateway.publication.content import ItemKind

URL = "https://land.example.gov.cn/credit/webhook"


def land(**options):  # noqa: ANN003, ANN201
    return factory(config("mianyang-land", "adapters.bureaus:factory",
                          {"url": URL, "secret": "land-secret", "timeout": 2, **options},
                          subscription={"sector": "land", "item_kinds": ["list"]}))


@respx.mock
async def test_a_land_entry_goes_out_with_an_hmac_webhook_signature(gateway_key):
    sent = delivery(signed_bulletin(gateway_key, [list_item(receivers=("land",))]))
    route = respx.post(URL).mock(return_value=httpx.Response(202))
    result = await land().push(sent)
    assert result.status is PushStatus.DELIVERED
    request = route.calls.last.request
    assert request.content == sent.signed
    assert webhook.verify(dict(request.headers), sent.delivery_id, request.content, secret="land-secret") == "hmac-sha256"
    with pytest.raises(webhook.WebhookAuthError, match="bad signature"):
        webhook.verify(dict(request.headers), sent.delivery_id, request.content, secret="other")
    with pytest.raises(webhook.WebhookAuthError, match="bad signature"):  # the delivery id is signed too
        webhook.verify(dict(request.headers), "another-delivery", request.content, secret="land-secret")


@respx.mock
async def test_the_gateway_key_can_sign_the_webhook_instead(gateway_key, gateway_keyring, tmp_path):
    keys_dir = gateway_key.source.rsplit("/", 1)[0]
    adapter = factory(config("bank", "adapters.bureaus:factory", {"url": URL, "signature": "key", "keys_dir": keys_dir},
                             subscription={"sector": "finance", "item_kinds": ["list", "penalty"]}))
    sent = delivery(signed_bulletin(gateway_key, [list_item(receivers=("finance",)), penalty_item()]))
    route = respx.post(URL).mock(return_value=httpx.Response(202))
    assert (await adapter.push(sent)).delivered
    request = route.calls.last.request
    alg = webhook.verify(dict(request.headers), sent.delivery_id, request.content,
                         certificates=[k.certificate for k in gateway_keyring])
    assert alg == "rsa-sha256"


def test_a_stale_webhook_timestamp_is_refused():
    headers = webhook.sign(b"body", "d-1", secret="s", now=time.time() - 301)
    with pytest.raises(webhook.WebhookAuthError, match="stale"):
        webhook.verify(headers, "d-1", b"body", secret="s")


@pytest.mark.parametrize("items", [
    [list_item(receivers=("finance",))],  # another sector's measures
    [list_item(receivers=("land", "finance"))],  # its own and another's
    [list_item(receivers=())],  # the bad-credit record: no measures, meant for the platforms
    [penalty_item()],  # a kind it is not configured for
    [list_item("it-ok", receivers=("land",)), list_item("it-bad", receivers=("insurance",))],
])
@respx.mock
async def test_a_bureau_refuses_items_outside_its_sector_without_sending(gateway_key, items):
    route = respx.post(URL).mock(return_value=httpx.Response(200))
    result = await land().push(delivery(signed_bulletin(gateway_key, items)))
    assert result.status is PushStatus.REJECTED
    assert "refused before sending" in result.error
    assert not route.called


def test_the_guard_refuses_unmasked_person_id_numbers_and_allows_follow_ups():
    guard = SectorGuard.build(["finance"], ["penalty"])
    unmasked = penalty_item(CF_XDR_ZJHM="510703196001011233")
    assert "unmasked" in guard.problem(unmasked)
    assert guard.problem(penalty_item(CF_XDR_ZJHM="510703********1233")) is None
    removal = BulletinItem("it-r", ItemKind.LIST_REMOVAL, "x", {"list": "joint_punishment", "reason": "expired"})
    assert guard.problem(removal) is None
    with pytest.raises(ValueError, match="sector"):
        SectorGuard.build([None])


@pytest.mark.parametrize(("status", "expected"), [(400, PushStatus.REJECTED), (503, PushStatus.SERVER_ERROR),
                                                  (429, PushStatus.THROTTLED)])
@respx.mock
async def test_bureau_http_answers_are_classified(gateway_key, status, expected):
    respx.post(URL).mock(return_value=httpx.Response(status, headers={"Retry-After": "3"}))
    result = await land().push(delivery(signed_bulletin(gateway_key, [list_item()])))
    assert result.status is expected
    if expected is PushStatus.THROTTLED:
        assert result.retry_after == 3


@respx.mock
async def test_bureau_timeouts_and_resets_are_classified(gateway_key):
    sent = delivery(signed_bulletin(gateway_key, [list_item()]))
    respx.post(URL).mock(side_effect=httpx.ConnectTimeout("slow"))
    assert (await land().push(sent)).status is PushStatus.TIMEOUT
    respx.post(URL).mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    assert (await land().push(sent)).status is PushStatus.NETWORK_ERROR


@respx.mock
async def test_bureau_success_with_receipt_and_receipt_query(gateway_key, platform_key):
    from gateway.signing.dsig import reference_digests
    from gateway.signing.receipt import ItemOutcome, build_receipt

    sent = delivery(signed_bulletin(gateway_key, [list_item()]))
    receipt = build_receipt(reference_digests(sent.signed), [ItemOutcome("it-list-1", "accepted")], key=platform_key,
                            delivery_id=sent.delivery_id, receiver="land", bulletin_id=sent.bulletin_id)
    respx.post(URL).mock(return_value=httpx.Response(200, content=receipt))
    respx.get(f"https://land.example.gov.cn/receipts/{sent.delivery_id}").mock(
        return_value=httpx.Response(200, content=receipt))
    adapter = land(receipt_url="https://land.example.gov.cn/receipts/{delivery_id}")
    assert (await adapter.push(sent)).receipt == receipt
    assert await adapter.query_receipt(sent.delivery_id, sent.bulletin_id) == receipt
    assert await land().query_receipt(sent.delivery_id, sent.bulletin_id) is None  # no receipt_url configured


def test_agencies_take_every_list_and_platforms_the_bare_record():
    agency = SectorGuard.build(["agency"])
    assert agency.problem(list_item(receivers=("land", "finance", "insurance"))) is None
    platform = SectorGuard.build(["platform"])
    assert platform.problem(list_item(receivers=())) is None  # the bad-credit record
    assert platform.problem(list_item(receivers=("platform",))) is None
    assert platform.problem(list_item(receivers=("land",))) is not None
