"""Requeue and leases (issue 14 item 1): a requeue starts a new attempt sequence that the
destination's answer settles, even when that answer is the receipt it already sent; lease
expiries count as attempts and end `dead` with the reason; every state has an exit."""

from __future__ import annotations

import datetime as dt

import pytest
from delivery_helpers import config, enqueue_many, registry

from gateway.delivery import bulletin_store, outbox
from gateway.delivery.outbox import FINAL_STATES, STATES, State
from gateway.delivery.worker import Worker


@pytest.fixture
def reg(keys_dir, tmp_path):
    from gateway.access.testing import partner_uscc

    return registry(keys_dir, config(options={"record_file": str(tmp_path / "rec.jsonl"), "keys_dir": str(keys_dir)},
                                     retry={"max_attempts": 3}, receipts_partner=partner_uscc("platform")))


@pytest.fixture
def destinations(reg):
    return reg


@pytest.fixture
def api(services, agencies):
    from gateway.access.testing import headers_for, issue, operator_headers
    from gateway.app import create_app

    destination_key = headers_for(issue(services, "platform"))  # only it may post the destination's receipts
    with create_app(services).test_client() as c:
        c.headers.update(operator_headers(services))
        c.destination_headers = destination_key
        yield c


async def test_requeue_of_a_rejected_delivery_is_settled_by_the_replayed_receipt(api, services, db, keys_dir, reg):
    (did,) = enqueue_many(db, keys_dir, 1, now=services.clock.now())
    with db.read() as conn:
        bid = outbox.get_delivery(conn, did).bulletin_id
    worker = Worker(services.db, services.clock, reg)
    adapter = worker._lane("local").adapter
    adapter.recorder.set_mode(reject_items=[f"{bid}-i0"])
    await worker.run_once()
    assert api.get(f"/v1/deliveries/{did}").json()["state"] == "rejected"
    assert api.post(f"/v1/deliveries/{did}:requeue").status_code == 200
    adapter.recorder.set_mode(reject_items=[])
    # the destination applied it already: it replays its earlier receipt, which settles the new sequence
    await worker.run_once()
    await worker.aclose()
    body = api.get(f"/v1/deliveries/{did}").json()
    assert body["state"] == "rejected", body
    assert body["lease_owner"] is None and body["attempts"] == 1
    assert [a["outcome"] for a in body["attempts_log"]] == ["delivered", "requeued", "delivered"]


async def test_repeated_lease_expiries_count_as_attempts_and_end_dead_with_the_reason(api, services, db, keys_dir, reg,
                                                                                      clock):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    worker = Worker(services.db, services.clock, reg)
    for _ in range(5):  # a worker claims and dies mid-send, again and again
        with db.write() as conn:
            outbox.claim(conn, destination="local", worker="doomed", limit=1, now=clock.now(), lease_seconds=5)
        clock.advance(seconds=6)
        await worker.reap()  # what the worker's loop does every reap interval
        if api.get(f"/v1/deliveries/{did}").json()["state"] == "dead":
            break
    await worker.aclose()
    body = api.get(f"/v1/deliveries/{did}").json()
    assert body["state"] == "dead", body
    assert body["attempts"] == 3
    assert "lease expired" in body["last_error"] and "max_attempts=3" in body["last_error"]
    assert [a["outcome"] for a in body["attempts_log"]] == ["lease_expired"] * 3


# every state, every action: (state, action) → the state it leads to (None: the action does not apply)
ACTIONS = ("claim", "reap", "receipt", "requeue")
P, S, A, W = State.PENDING, State.SENDING, State.AWAITING_RECEIPT, State.RETRY_WAIT
ACK, PART, REJ, DEAD = State.ACKNOWLEDGED, State.PARTIALLY_REJECTED, State.REJECTED, State.DEAD
EXPECTED = {
    (P, "claim"): S, (P, "reap"): P, (P, "receipt"): ACK, (P, "requeue"): P,
    (S, "claim"): S, (S, "reap"): P, (S, "receipt"): ACK, (S, "requeue"): S,
    (A, "claim"): A, (A, "reap"): A, (A, "receipt"): ACK, (A, "requeue"): A,
    (W, "claim"): S, (W, "reap"): W, (W, "receipt"): ACK, (W, "requeue"): W,
    (ACK, "claim"): ACK, (ACK, "reap"): ACK, (ACK, "receipt"): ACK, (ACK, "requeue"): ACK,
    (PART, "claim"): PART, (PART, "reap"): PART, (PART, "receipt"): PART, (PART, "requeue"): P,
    (REJ, "claim"): REJ, (REJ, "reap"): REJ, (REJ, "receipt"): REJ, (REJ, "requeue"): P,
    (DEAD, "claim"): DEAD, (DEAD, "reap"): DEAD, (DEAD, "receipt"): DEAD, (DEAD, "requeue"): P,
}


def _put(db, did, state, clock):
    from sqlalchemy import update

    from gateway.store.delivery_tables import deliveries

    past = clock.now() - dt.timedelta(seconds=60)
    with db.write() as conn:
        conn.execute(update(deliveries).where(deliveries.c.delivery_id == did).values(
            state=state, lease_owner="w" if state == State.SENDING else None,
            lease_expires_at=past if state == State.SENDING else None, next_attempt_at=past, attempts=1))


async def test_every_delivery_state_has_an_exit_and_every_action_is_defined(api, services, db, keys_dir, reg, clock):
    reached: dict[tuple[str, str], str | None] = {}
    for state in STATES:
        for action in ACTIONS:
            (did,) = enqueue_many(db, keys_dir, 1, now=clock.now(), prefix=f"{state}-{action}")
            _put(db, did, state, clock)
            if action == "claim":
                with db.write() as conn:
                    outbox.claim(conn, destination="local", worker="x", limit=50, now=clock.now(), lease_seconds=5)
            elif action == "reap":
                with db.write() as conn:
                    outbox.reap_expired_leases(conn, clock.now(), max_attempts={"local": 3})
            elif action == "receipt":
                api.post("/v1/receipts", content=_accepted_receipt(db, keys_dir, did),
                         headers={"Content-Type": "application/xml", **api.destination_headers})
            else:
                api.post(f"/v1/deliveries/{did}:requeue")
            with db.read() as conn:
                reached[(state, action)] = outbox.get_delivery(conn, did).state
            with db.write() as conn:  # leave nothing claimable for the next case
                _park(conn, did)
    assert reached == EXPECTED
    # no state without an exit: from every non-final state some action leads on, and the
    # final states an operator may retry lead back to pending
    for state in STATES:
        onward = {reached[(state, a)] for a in ACTIONS} - {state}
        if state == State.ACKNOWLEDGED:
            assert onward == set(), "an acknowledged delivery is settled for good"
        else:
            assert onward, f"{state} has no exit"
    assert all(reached[(s, "requeue")] == State.PENDING for s in FINAL_STATES - {State.ACKNOWLEDGED})


def _park(conn, did):
    from sqlalchemy import update

    from gateway.store.delivery_tables import deliveries

    conn.execute(update(deliveries).where(deliveries.c.delivery_id == did).values(state=State.ACKNOWLEDGED))


def _accepted_receipt(db, keys_dir, did):
    from gateway.signing.dsig import reference_digests
    from gateway.signing.keys import ensure_dev_keyring
    from gateway.signing.receipt import ItemOutcome, build_receipt

    with db.read() as conn:
        bid = outbox.get_delivery(conn, did).bulletin_id
        signed = bytes(bulletin_store.get_bulletin(conn, bid).signed)
        items = [i.item_id for i in bulletin_store.items_of(conn, bid)]
    return build_receipt(reference_digests(signed), [ItemOutcome(i, "accepted") for i in items],
                         key=ensure_dev_keyring(keys_dir).active, delivery_id=did, receiver="local", bulletin_id=bid)
