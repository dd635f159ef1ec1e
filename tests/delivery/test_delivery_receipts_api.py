"""Receipts (sync, async, queried, duplicate, mismatched) and the delivery API/CLI."""

from __future__ import annotations

import io
import zipfile

import pytest
from delivery_helpers import USCC, config, enqueue_many, registry, sign

import adapters.local as local_adapter
from adapters.local.recorder import Recorder
from gateway.delivery import bulletin_store, outbox, receipts
from gateway.signing.dsig import reference_digests
from gateway.signing.keys import ensure_dev_keyring
from gateway.signing.receipt import ItemOutcome, ReceiptMismatch, build_receipt


@pytest.fixture
def reg(keys_dir, tmp_path):
    from gateway.access.testing import partner_uscc

    return registry(keys_dir, config(options={"record_file": str(tmp_path / "rec.jsonl"), "keys_dir": str(keys_dir)},
                                     receipts_partner=partner_uscc("platform")))


@pytest.fixture
def destinations(reg):
    return reg


@pytest.fixture
def api(services, agencies):
    """An operator's client; receipts are posted with the destination's own key (`post`)."""
    from gateway.access.testing import headers_for, issue, operator_headers
    from gateway.app import create_app

    destination_key = headers_for(issue(services, "platform"))
    with create_app(services).test_client() as c:
        c.headers.update(operator_headers(services))
        original = c.post

        def post(url, **kw):
            if url == "/v1/receipts":
                kw["headers"] = {**destination_key, **kw.get("headers", {})}
            return original(url, **kw)

        c.post = post
        yield c


def _receipt(keys_dir, signed, delivery_id, bulletin_id, outcomes, **kw):
    key = ensure_dev_keyring(keys_dir).active
    return build_receipt(reference_digests(signed), outcomes, key=key, delivery_id=delivery_id, receiver="local",
                         bulletin_id=bulletin_id, **kw)


def _sent(db, keys_dir, clock, n_items=2, record_uid=None):
    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now(), n_items=n_items, record_uid=record_uid)
    with db.write() as conn:
        outbox.claim(conn, destination="local", worker="w", limit=1, now=clock.now(), lease_seconds=30)
        outbox.mark_sent(conn, delivery_id=did, worker="w", now=clock.now())
        row = outbox.get_delivery(conn, did)
        signed = bytes(bulletin_store.get_bulletin(conn, row.bulletin_id).signed)
    return did, row.bulletin_id, signed


def test_an_async_receipt_settles_the_delivery_and_a_duplicate_changes_nothing(api, services, db, keys_dir, clock):
    did, bid, signed = _sent(db, keys_dir, clock)
    data = _receipt(keys_dir, signed, did, bid, [ItemOutcome(f"{bid}-i0", "accepted"), ItemOutcome(f"{bid}-i1", "accepted")],
                    receipt_id="r-1")
    first = api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"})
    assert first.status_code == 201, first.text
    assert first.json() == {"delivery_id": did, "duplicate": False, "state": "acknowledged"}
    again = api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"})
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["state"] is None
    # same receipt id, re-signed (different bytes): still the same receipt
    resigned = _receipt(keys_dir, signed, did, bid, [ItemOutcome(f"{bid}-i0", "rejected", "E1")], receipt_id="r-1")
    assert api.post("/v1/receipts", content=resigned, headers={"Content-Type": "application/xml"}).json()["duplicate"]
    with db.read() as conn:
        stored = receipts.receipts_of(conn, did)
        assert len(stored) == 1 and stored[0].duplicate and stored[0].duplicate_count == 2
        assert outbox.get_delivery(conn, did).state == "acknowledged"
        assert [o.status for o in receipts.item_outcomes(conn, did)] == ["accepted", "accepted"]


def test_a_receipt_for_other_content_is_refused_and_logged(api, db, keys_dir, clock):
    did, bid, signed = _sent(db, keys_dir, clock)
    other, _ = sign(keys_dir, bid, 99)  # same id, different content: different digests
    data = _receipt(keys_dir, other, did, bid, [ItemOutcome(f"{bid}-i0", "accepted")])
    with pytest.raises(ReceiptMismatch):
        receipts.verify_for_delivery(data, registry_trust(api), signed, delivery_id=did, bulletin_id=bid)
    answer = api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 422 and answer.json()["type"] == "urn:gateway:problem:receipt-mismatch"
    with db.read() as conn:
        row = outbox.get_delivery(conn, did)
        assert row.state == "awaiting_receipt" and row.bad_receipts == 0 and row.last_error is None
        assert receipts.receipts_of(conn, did) == []
    assert [r["reason"] for r in api.get("/v1/receipts/refused", params={"delivery_id": did}).json()["items"]] == [
        "mismatch"]


def registry_trust(api):
    from gateway.api.deps import services

    return services().destinations.trust("local")


def test_a_receipt_signed_by_an_untrusted_key_is_refused(api, db, keys_dir, clock, tmp_path):
    did, bid, signed = _sent(db, keys_dir, clock)
    data = _receipt(tmp_path / "stranger", signed, did, bid, [ItemOutcome(f"{bid}-i0", "accepted")])
    answer = api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 422 and answer.json()["type"] == "urn:gateway:problem:receipt-invalid"


def test_a_receipt_for_an_unknown_delivery_is_404(api, db, keys_dir, clock):
    _, bid, signed = _sent(db, keys_dir, clock)
    data = _receipt(keys_dir, signed, "00000000-0000-0000-0000-000000000000", bid, [ItemOutcome("x", "accepted")])
    answer = api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 404 and answer.json()["type"] == "urn:gateway:problem:delivery-not-found"


def test_partial_rejection_is_visible_per_delivery_and_per_source_agency(api, services, db, keys_dir, clock):
    from sqlalchemy import insert, select

    from gateway.store.tables import agencies as agencies_table
    from gateway.store.tables import records, subjects

    uid = "rec-my-ajj-1"
    now = clock.now()
    with db.write() as conn:  # a record of MY-AJJ, written directly (intake has its own tests)
        agency_id = conn.execute(select(agencies_table.c.id).where(agencies_table.c.code == "MY-AJJ")).scalar()
        subject_id = conn.execute(insert(subjects).values(key=USCC, uscc=USCC, category="enterprise", created_at=now,
                                                          changed_at=now).returning(subjects.c.id)).scalar()
        conn.execute(insert(records).values(uid=uid, subject_id=subject_id, agency_id=agency_id, source_record_id="c-1",
                                            kind="commitment", version=1, status="current", action="publish",
                                            content_hash="0" * 64, data={}, received_at=now))
    did, bid, signed = _sent(db, keys_dir, clock, record_uid=uid)
    data = _receipt(keys_dir, signed, did, bid, [ItemOutcome(f"{bid}-i0", "accepted"),
                                                 ItemOutcome(f"{bid}-i1", "rejected", "E_FIELD", "CF_JDRQ missing")])
    assert api.post("/v1/receipts", content=data, headers={"Content-Type": "application/xml"}).json()["state"] == \
        "partially_rejected"
    detail = api.get(f"/v1/deliveries/{did}").json()
    assert [(i["outcome"], i["code"]) for i in detail["items"]] == [("accepted", None), ("rejected", "E_FIELD")]
    mine = api.get("/v1/rejected-items", params={"agency": "MY-AJJ"}).json()["items"]
    assert [(i["item_id"], i["agency"], i["record_uid"]) for i in mine] == [(f"{bid}-i1", "MY-AJJ", uid)]
    assert api.get("/v1/rejected-items", params={"agency": "FC-AJJ"}).json()["items"] == []


async def test_an_overdue_receipt_is_requeried_then_flagged(services, db, keys_dir, clock, reg):
    did, bid, signed = _sent(db, keys_dir, clock)
    clock.advance(seconds=3601)
    report = await receipts.check_overdue_receipts_async(services.db, reg, clock.now())
    assert report.queried == 1 and report.flagged == [did]
    with db.read() as conn:
        row = outbox.get_delivery(conn, did)
        assert row.state == "awaiting_receipt" and row.receipt_overdue
    # the destination now has it: the next check settles the delivery
    recorder = Recorder(reg.get("local").options["record_file"], ensure_dev_keyring(keys_dir).active)
    await recorder.push(did, bid, 1, signed)
    original = local_adapter.factory
    local_adapter.factory = lambda cfg: local_adapter.InProcessDestination("local", recorder)
    try:
        report = await receipts.check_overdue_receipts_async(services.db, reg, clock.now())
    finally:
        local_adapter.factory = original
    assert report.settled == 1
    with db.read() as conn:
        row = outbox.get_delivery(conn, did)
        assert row.state == "acknowledged" and not row.receipt_overdue


def test_delivery_api_lists_shows_requeues_and_serves_bulletins_and_evidence(api, db, keys_dir, clock):
    ids = enqueue_many(db, keys_dir, 3, now=clock.now())
    page = api.get("/v1/deliveries", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next"]
    rest = api.get("/v1/deliveries", params={"limit": 2, "after": page["next"]}).json()
    assert {d["delivery_id"] for d in page["items"] + rest["items"]} == set(ids) and rest["next"] is None
    assert api.get("/v1/deliveries", params={"state": "pending"}).json()["items"]
    bad = api.get("/v1/deliveries", params={"state": "lost"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    missing = api.get("/v1/deliveries/nope")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:gateway:problem:delivery-not-found"
    conflict = api.post(f"/v1/deliveries/{ids[0]}:requeue")
    assert conflict.status_code == 409 and conflict.json()["state"] == "pending"
    with db.write() as conn:
        outbox.claim(conn, destination="local", worker="w", limit=1, now=clock.now(), lease_seconds=30)
        (claimed,) = [r.delivery_id for r in outbox.list_deliveries(conn, state="sending")]
        outbox.mark_final(conn, delivery_id=claimed, worker="w", now=clock.now(), state="dead", error="gave up")
    done = api.post(f"/v1/deliveries/{claimed}:requeue")
    assert done.status_code == 200 and done.json() == {"delivery_id": claimed, "previous_state": "dead",
                                                       "state": "pending", "attempts": 0}
    outcomes = [a["outcome"] for a in api.get(f"/v1/deliveries/{claimed}").json()["attempts_log"]]
    assert outcomes == ["requeued"]
    detail = api.get(f"/v1/deliveries/{ids[0]}").json()
    bulletin = api.get(f"/v1/bulletins/{detail['bulletin_id']}")
    with db.read() as conn:
        assert bulletin.content == bytes(bulletin_store.get_bulletin(conn, detail["bulletin_id"]).signed)
    assert bulletin.headers["content-type"].startswith("application/xml")
    evidence = api.get(f"/v1/bulletins/{detail['bulletin_id']}/evidence")
    names = zipfile.ZipFile(io.BytesIO(evidence.content)).namelist()
    assert "bulletin.xml" in names and any(n.startswith("certificates/") for n in names)
    assert api.get("/v1/bulletins/nope").json()["type"] == "urn:gateway:problem:bulletin-not-found"


async def test_sync_receipts_settle_with_the_in_process_destination_and_evidence_has_the_receipt(
        api, services, db, keys_dir, clock, reg):
    from gateway.delivery.worker import Worker

    ids = enqueue_many(db, keys_dir, 2, now=clock.now())
    worker = Worker(services.db, services.clock, reg)
    await worker.run_once()
    await worker.aclose()
    with db.read() as conn:
        assert outbox.count_by_state(conn) == {"acknowledged": 2}
        bid = outbox.get_delivery(conn, ids[0]).bulletin_id
    names = zipfile.ZipFile(io.BytesIO(api.get(f"/v1/bulletins/{bid}/evidence").content)).namelist()
    assert "receipt-1.xml" in names


async def test_the_evidence_zip_verifies_with_gateway_verify_and_its_readme_against_published_certificates(
        api, services, db, keys_dir, clock, reg, tmp_path, capsys):
    import json
    import shlex
    import shutil
    import subprocess

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from gateway.cli import main
    from gateway.delivery.worker import Worker
    from gateway.signing.evidence import README

    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    worker = Worker(services.db, services.clock, reg)
    await worker.run_once()
    await worker.aclose()
    with db.read() as conn:
        bid = outbox.get_delivery(conn, did).bulletin_id
    # published without a credential: key id, validity, SHA-256 fingerprint, PEM
    api.headers.pop("Authorization", None)
    assert "authorization" not in {k.lower() for k in api.headers}
    published = api.get("/v1/trust/certificates")
    assert published.status_code == 200, published.text
    (cert,) = published.json()["certificates"]
    parsed = x509.load_pem_x509_certificate(cert["pem"].encode())
    assert cert["sha256_fingerprint"] == parsed.fingerprint(hashes.SHA256()).hex(":").upper()
    assert cert["key_id"] == services.keyring.active.key_id and cert["active"] is True
    assert cert["not_after"] == parsed.not_valid_after_utc.isoformat()
    from gateway.access.testing import operator_headers

    api.headers.update(operator_headers(services))
    data = api.get(f"/v1/bulletins/{bid}/evidence").content
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert json.loads(zf.read("certificates/gateway-certificates.json")) == published.json()
    pinned = tmp_path / "gateway-cert.pem"
    pinned.write_text(cert["pem"])
    path = tmp_path / "evidence.zip"
    path.write_bytes(data)
    capsys.readouterr()
    # the destination `local` signs its receipts with the dev keyring (trust: dev)
    assert main(["verify", str(path), "--cert", str(pinned), "--receipt-cert", str(pinned)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK (evidence)") and "receipts:  1" in out
    if shutil.which("xmlsec1"):  # the README's own commands, run in the unpacked zip
        unpacked = tmp_path / "unpacked"
        zf.extractall(unpacked)
        commands = [line.strip() for line in README.splitlines() if line.strip().startswith("xmlsec1 --")]
        assert len(commands) == 2
        for command in commands:
            done = subprocess.run(shlex.split(command), cwd=unpacked, capture_output=True, text=True)
            assert done.returncode == 0, (command, done.stderr)
    if shutil.which("openssl"):  # the README's fingerprint check gives the published fingerprint
        (command,) = [line.strip() for line in README.splitlines() if line.strip().startswith("openssl ")]
        unpacked = tmp_path / "unpacked"
        zf.extractall(unpacked)
        done = subprocess.run(shlex.split(command), cwd=unpacked, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip().endswith("=" + cert["sha256_fingerprint"]), done.stdout


def test_cli_lists_shows_and_requeues(services, db, keys_dir, clock, capsys):
    from gateway.cli import main

    (did,) = enqueue_many(db, keys_dir, 1, now=clock.now())
    args = ["--database-url", db.url]
    assert main(["deliveries", "list", *args]) == 0
    assert did in capsys.readouterr().out
    assert main(["deliveries", "show", did, *args]) == 0
    assert '"state": "pending"' in capsys.readouterr().out
    assert main(["deliveries", "requeue", did, *args]) == 1
    assert "not requeued (pending)" in capsys.readouterr().out


def test_a_conflicting_second_signed_receipt_is_kept_as_a_conflict_and_overwrites_nothing(api, db, keys_dir, clock):
    did, bid, signed = _sent(db, keys_dir, clock)
    accepted = [ItemOutcome(f"{bid}-i0", "accepted"), ItemOutcome(f"{bid}-i1", "accepted")]
    first = _receipt(keys_dir, signed, did, bid, accepted, receipt_id="r-1")
    assert api.post("/v1/receipts", content=first, headers={"Content-Type": "application/xml"}).status_code == 201
    flipped = _receipt(keys_dir, signed, did, bid, [ItemOutcome(f"{bid}-i0", "rejected", "E1"),
                                                   ItemOutcome(f"{bid}-i1", "rejected", "E1")], receipt_id="r-2")
    api.post("/v1/receipts", content=flipped, headers={"Content-Type": "application/xml"})
    body = api.get(f"/v1/deliveries/{did}").json()
    assert body["state"] == "acknowledged"
    assert [i["outcome"] for i in body["items"]] == ["accepted", "accepted"]
    conflict = [r for r in body["receipts"] if r["receipt_id"] == "r-2"]
    assert conflict and conflict[0]["conflict"] is True
    assert [r["receipt_id"] for r in body["receipts"] if r["conflict"]] == ["r-2"]
    listed = api.get("/v1/receipts/conflicts").json()["items"]
    assert [(c["delivery_id"], c["receipt_id"], c["delivery_state"]) for c in listed] == [(did, "r-2", "acknowledged")]
    summary = api.get("/v1/ops/summary").json()
    assert [c["receipt_id"] for c in summary["receipt_conflicts"]] == ["r-2"]
    assert 'gateway_receipt_conflicts{destination="local"} 1.0' in api.get("/metrics").text
