"""Receipts under misuse: only the destination's own credential may post a receipt for its
deliveries; a refused receipt changes nothing about the delivery and is logged with the
reason (API, CLI, ops summary)."""

from __future__ import annotations

import pytest
from delivery_helpers import config, enqueue_many, registry

from gateway.access.testing import headers_for, issue, partner_uscc
from gateway.delivery import bulletin_store, outbox, receipts
from gateway.signing.dsig import reference_digests
from gateway.signing.keys import ensure_dev_keyring
from gateway.signing.receipt import ItemOutcome, build_receipt

XML = {"Content-Type": "application/xml"}
OTHER_PLATFORM = 301  # another platform partner: holds receipts:write too


@pytest.fixture
def destinations(keys_dir, tmp_path):
    return registry(keys_dir, config(options={"record_file": str(tmp_path / "rec.jsonl")},
                                     receipts_partner=partner_uscc("platform")),
                    config("unbound", options={"record_file": str(tmp_path / "rec2.jsonl")}))


@pytest.fixture
def app(services, agencies):
    from gateway.app import create_app

    with create_app(services).test_client() as c:
        yield c


@pytest.fixture
def keys(services):
    return {"own": headers_for(issue(services, "platform")),
            "other": headers_for(issue(services, "platform", seq=OTHER_PLATFORM, name="another platform")),
            "operator": headers_for(issue(services, "operator"))}


def _sent(db, keys_dir, clock, destination="local"):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now(), n_items=2, destination=destination)
    with db.write() as conn:
        outbox.claim(conn, destination=destination, worker="w", limit=1, now=clock.now(), lease_seconds=30)
        outbox.mark_sent(conn, delivery_id=did, worker="w", now=clock.now())
        row = outbox.get_delivery(conn, did)
        signed = bytes(bulletin_store.get_bulletin(conn, row.bulletin_id).signed)
    return did, row.bulletin_id, signed


def _receipt(keys_dir, signed, did, bid, status="rejected", **kw):
    return build_receipt(reference_digests(signed), [ItemOutcome(f"{bid}-i0", status, "E1" if status == "rejected"
                                                                 else None), ItemOutcome(f"{bid}-i1", status,
                                                                 "E1" if status == "rejected" else None)],
                         key=ensure_dev_keyring(keys_dir).active, delivery_id=did, receiver="local", bulletin_id=bid,
                         **kw)


def _untouched(db, did):
    with db.read() as conn:
        row = outbox.get_delivery(conn, did)
        assert (row.state, row.bad_receipts, row.last_error) == ("awaiting_receipt", 0, None)
        assert receipts.receipts_of(conn, did) == []


@pytest.mark.parametrize("who", ["other", "operator"])
def test_another_credential_cannot_post_the_destinations_receipt(app, db, keys_dir, clock, keys, who):
    did, bid, signed = _sent(db, keys_dir, clock)
    # even a receipt genuinely signed by the destination: the credential is not the destination's
    answer = app.post("/v1/receipts", content=_receipt(keys_dir, signed, did, bid), headers={**keys[who], **XML})
    assert answer.status_code == 403 and answer.json()["type"] == "urn:gateway:problem:receipt-not-yours"
    _untouched(db, did)
    refused = app.get("/v1/receipts/refused", headers=keys["operator"]).json()["items"]
    assert [(r["delivery_id"], r["destination"], r["reason"]) for r in refused] == [(did, "local",
                                                                                     "not_the_destination")]
    assert refused[0]["organisation"] == partner_uscc("platform", OTHER_PLATFORM if who == "other" else 109)
    # the destination's own key is then accepted
    own = app.post("/v1/receipts", content=_receipt(keys_dir, signed, did, bid, "accepted"),
                   headers={**keys["own"], **XML})
    assert own.status_code == 201 and own.json()["state"] == "acknowledged"


def test_a_forged_receipt_from_another_platform_changes_nothing(app, db, keys_dir, clock, keys, tmp_path):
    did, bid, signed = _sent(db, keys_dir, clock)
    forged = _receipt(tmp_path / "stranger", signed, did, bid)
    for _ in range(3):
        answer = app.post("/v1/receipts", content=forged, headers={**keys["other"], **XML})
        assert answer.status_code == 403
    _untouched(db, did)


def test_the_destinations_own_key_with_a_receipt_it_did_not_sign_changes_nothing(app, db, keys_dir, clock, keys,
                                                                                   tmp_path):
    did, bid, signed = _sent(db, keys_dir, clock)
    answer = app.post("/v1/receipts", content=_receipt(tmp_path / "stranger", signed, did, bid),
                      headers={**keys["own"], **XML})
    assert answer.status_code == 422 and answer.json()["type"] == "urn:gateway:problem:receipt-invalid"
    _untouched(db, did)
    refused = app.get("/v1/receipts/refused", params={"reason": "not_verified"}, headers=keys["operator"]).json()
    assert [r["delivery_id"] for r in refused["items"]] == [did]


def test_a_destination_without_a_bound_partner_takes_no_posted_receipts(app, db, keys_dir, clock, keys):
    did, bid, signed = _sent(db, keys_dir, clock, destination="unbound")
    answer = app.post("/v1/receipts", content=_receipt(keys_dir, signed, did, bid), headers={**keys["own"], **XML})
    assert answer.status_code == 403 and "no receipts_partner" in answer.json()["detail"]
    _untouched(db, did)


def test_unreadable_and_unknown_receipts_are_logged(app, db, keys_dir, clock, keys):
    did, bid, signed = _sent(db, keys_dir, clock)
    assert app.post("/v1/receipts", content=b"<x/>", headers={**keys["other"], **XML}).status_code == 422
    ghost = _receipt(keys_dir, signed, "00000000-0000-0000-0000-000000000000", bid)
    assert app.post("/v1/receipts", content=ghost, headers={**keys["own"], **XML}).status_code == 404
    refused = app.get("/v1/receipts/refused", headers=keys["operator"]).json()["items"]
    assert [r["reason"] for r in refused] == ["unknown_delivery", "unreadable"]
    _untouched(db, did)


def test_refused_receipts_are_shown_in_the_ops_summary_and_the_cli(app, db, keys_dir, clock, keys, capsys):
    from gateway.cli import main

    did, bid, signed = _sent(db, keys_dir, clock)
    app.post("/v1/receipts", content=_receipt(keys_dir, signed, did, bid), headers={**keys["other"], **XML})
    summary = app.get("/v1/ops/summary", headers=keys["operator"]).json()
    assert summary["receipts_refused"]["last_24h"] == {"not_the_destination": 1}
    assert [r["delivery_id"] for r in summary["receipts_refused"]["latest"]] == [did]
    assert main(["receipts", "refused", "--database-url", db.url]) == 0
    line = capsys.readouterr().out.strip()
    assert did in line and "not_the_destination" in line and partner_uscc("platform", OTHER_PLATFORM) in line
    assert main(["receipts", "conflicts", "--database-url", db.url]) == 0
    assert capsys.readouterr().out == ""
    metrics = app.get("/metrics", headers=keys["operator"]).text
    assert 'gateway_receipts_refused_total{reason="not_the_destination"} 1.0' in metrics
    assert 'gateway_receipts_refused_total{reason="mismatch"} 0.0' in metrics


def test_the_refused_log_is_for_operators_only(app, keys):
    assert app.get("/v1/receipts/refused", headers=keys["own"]).status_code == 403
    assert app.get("/v1/receipts/conflicts", headers=keys["own"]).status_code == 403


async def test_a_bad_receipt_fetched_by_the_overdue_check_is_logged_and_changes_nothing(
        services, db, keys_dir, clock, tmp_path, monkeypatch):
    import adapters.local as local_adapter

    did, bid, signed = _sent(db, keys_dir, clock)
    forged = _receipt(tmp_path / "stranger", signed, did, bid)

    class Answers:
        async def query_receipt(self, delivery_id, bulletin_id):  # noqa: ANN001, ANN201
            return forged

        async def aclose(self) -> None:
            return None

    monkeypatch.setattr(local_adapter, "factory", lambda cfg: Answers())
    clock.advance(seconds=3601)
    report = await receipts.check_overdue_receipts_async(services.db, services.destinations, clock.now())
    assert report.settled == 0 and report.flagged == [did]
    with db.read() as conn:
        from gateway.delivery import refused_store

        row = outbox.get_delivery(conn, did)
        assert (row.state, row.bad_receipts) == ("awaiting_receipt", 0) and row.receipt_overdue
        assert receipts.receipts_of(conn, did) == []
        assert [(r["channel"], r["reason"]) for r in refused_store.refused(conn)] == [("query", "not_verified")]
