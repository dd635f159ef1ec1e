"""Audit a database writer cannot rewrite: signed checkpoints of the chain head, kept outside
the database, and `gateway audit verify` naming each attack done with raw SQL (the chain alone
passes every one of them, which each test shows first)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from gateway.access import audit
from gateway.access.settings import load_access_settings
from gateway.cli import main

EVERY = 5


@pytest.fixture
def access_settings():
    return load_access_settings(key_cache_seconds=0, trusted_proxies=["10.0.0.0/8"], rate_limits={},
                                audit_checkpoint_every=EVERY, audit_checkpoint_minutes=60)


@pytest.fixture
def cli(access, settings, monkeypatch, capsys):
    """`gateway audit verify` as an operator runs it, against the same database, keys and file."""
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(settings.keys_dir))

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main([*argv, "--database-url", access.db.url])
        return code, capsys.readouterr().out

    return run


def _fill(services, n: int, start: dt.datetime | None = None) -> None:
    at = start or services.clock.now()
    for i in range(1, n + 1):
        audit.record(services.db, audit.AuditEntry(actor=f"k{i:03d}", action="gateway.api.credit.get_credit", outcome="ok",
                                                   at=at + dt.timedelta(days=i), detail={"i": i}),
                     services.clock.now(), services.audit_checkpoints)


def _chain_only(services) -> audit.Verification:
    with services.db.read() as conn:
        return audit.verify(conn)


def _lines(services) -> list[dict]:
    return [json.loads(x) for x in services.audit_checkpoints.path.read_text().splitlines()]


def _hash_of(conn, seq: int) -> str:
    return conn.execute(text("SELECT entry_hash FROM audit_log WHERE seq = :s"), {"s": seq}).scalar_one()


def test_checkpoints_are_signed_every_n_entries_outside_the_database(access, cli, settings):
    _fill(access, 12)
    heads = [ln for ln in _lines(access) if ln["kind"] == "head"]
    assert [ln["seq"] for ln in heads] == [1, 6, 11]
    assert access.audit_checkpoints.path.parent == settings.keys_dir.parent  # var/, not the database
    assert all(ln["signature"] and ln["key_id"] == access.keyring.active.key_id for ln in heads)
    code, out = cli("audit", "verify")
    assert code == 0 and "3 signed checkpoint(s)" in out, out


def test_a_checkpoint_is_also_due_after_m_minutes(access):
    _fill(access, 2)
    assert [ln["seq"] for ln in _lines(access)] == [1]
    now = access.clock.now()
    entry = audit.AuditEntry(actor="k", action="x", outcome="ok")
    audit.record(access.db, entry, now + dt.timedelta(minutes=59), access.audit_checkpoints)
    assert [ln["seq"] for ln in _lines(access)] == [1]
    audit.record(access.db, entry, now + dt.timedelta(minutes=61), access.audit_checkpoints)
    assert [ln["seq"] for ln in _lines(access)] == [1, 4]


def test_partner_requests_are_checkpointed_through_the_api(authed, access):
    client = authed("finance")
    for _ in range(EVERY + 1):
        client.get("/v1/access/whoami")
    assert [ln["seq"] for ln in _lines(access) if ln["kind"] == "head"][:2] == [1, 6]


def test_truncating_the_tail_and_fixing_the_head_is_named(access, cli):
    _fill(access, 12)
    with access.db.write() as conn:
        h7 = _hash_of(conn, 7)
        conn.execute(text("DELETE FROM audit_log WHERE seq > 7"))
        conn.execute(text("UPDATE audit_chain SET head_seq = 7, head_hash = :h WHERE id = 1"), {"h": h7})
    assert _chain_only(access).ok  # the chain alone is fooled
    code, out = cli("audit", "verify")
    assert code == 1 and "truncated" in out and "entries 8..11" in out, out


def test_rewriting_and_recomputing_the_chain_is_named(access, cli):
    _fill(access, 12)
    with access.db.write() as conn:
        rows = conn.execute(text("SELECT * FROM audit_log WHERE seq >= 3 ORDER BY seq")).mappings().all()
        prev = _hash_of(conn, 2)
        for row in rows:
            values = dict(row)
            values["detail"] = json.loads(values["detail"]) if isinstance(values["detail"], str) else values["detail"]
            if values["seq"] == 3:
                values["actor"] = "someone-else"
            values["at"] = values["at"] if isinstance(values["at"], dt.datetime) else dt.datetime.fromisoformat(values["at"])
            values["at"] = values["at"] if values["at"].tzinfo else values["at"].replace(tzinfo=dt.UTC)
            values["prev_hash"] = prev
            prev = audit.entry_hash(values)
            conn.execute(text("UPDATE audit_log SET actor = :a, prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                         {"a": values["actor"], "p": values["prev_hash"], "h": prev, "s": values["seq"]})
        conn.execute(text("UPDATE audit_chain SET head_hash = :h WHERE id = 1"), {"h": prev})
    assert _chain_only(access).ok  # recomputed: the chain alone is fooled
    code, out = cli("audit", "verify")
    assert code == 1 and "entry 6: rewritten" in out and "entry 11: rewritten" in out, out


def test_deleting_a_prefix_recorded_as_pruned_is_named(access, cli):
    _fill(access, 12)
    with access.db.write() as conn:
        h4 = _hash_of(conn, 4)
        conn.execute(text("DELETE FROM audit_log WHERE seq <= 4"))
        conn.execute(text("UPDATE audit_chain SET pruned_through_seq = 4, pruned_hash = :h WHERE id = 1"), {"h": h4})
    assert _chain_only(access).ok
    code, out = cli("audit", "verify")
    assert code == 1 and "prefix-deleted" in out, out


def test_a_real_prune_stays_verifiable(access, cli, clock):
    _fill(access, 12)
    with access.db.write() as conn:
        assert audit.prune(conn, clock.now() + dt.timedelta(days=4, hours=1), clock.now(), access.audit_checkpoints) == 4
    assert any(ln["kind"] == "prune" and ln["pruned_through_seq"] == 4 for ln in _lines(access))
    code, out = cli("audit", "verify")
    assert code == 0, out


@pytest.mark.parametrize("head_row", ["deleted", "reset"])
def test_a_wipe_is_named(access, cli, head_row):
    _fill(access, 12)
    with access.db.write() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        if head_row == "deleted":
            conn.execute(text("DELETE FROM audit_chain"))
        else:
            conn.execute(text("UPDATE audit_chain SET head_seq = 0, head_hash = :g WHERE id = 1"), {"g": audit.GENESIS})
    assert _chain_only(access).ok
    code, out = cli("audit", "verify")
    assert code == 1 and "wiped" in out, out


def test_a_checkpoint_line_not_signed_by_the_gateway_is_named(access, cli):
    _fill(access, 3)
    forged = {**_lines(access)[0], "seq": 2}  # the signature no longer covers the fields
    with access.audit_checkpoints.path.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
    code, out = cli("audit", "verify")
    assert code == 1 and "checkpoint-forged" in out, out


def test_the_checkpoint_command_signs_the_head_now(access, cli):
    _fill(access, 3)
    code, out = cli("audit", "checkpoint")
    assert code == 0 and "entry 3" in out
    # the head it signed, then the command's own entry (an operator action), anchored at once
    assert [ln["seq"] for ln in _lines(access)][-2:] == [3, 4]
    assert cli("audit", "verify")[0] == 0


def test_the_verify_api_reports_checkpoint_findings(access, operator):
    _fill(access, 12)
    with access.db.write() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > 7"))
        conn.execute(text("UPDATE audit_chain SET head_seq = 7, head_hash = :h WHERE id = 1"), {"h": _hash_of(conn, 7)})
    body = operator.get("/v1/audit:verify").json()
    assert body["ok"] is False and "truncated" in {b["kind"] for b in body["breaks"]}


def test_processes_sharing_the_file_do_not_checkpoint_more_often(access):
    from gateway.access.checkpoints import Checkpointer

    cp = access.audit_checkpoints
    other = Checkpointer(cp.path, cp.signing_key, cp.every, cp.minutes)  # a second API process
    now = access.clock.now()
    assert cp.after_append(1, "a" * 64, now)
    assert other.after_append(6, "b" * 64, now)  # its own view was empty; the file says 1: due
    assert not cp.after_append(7, "c" * 64, now)  # cp's cache says 1 (due), the file says 6: not due
    assert not other.after_append(5, "d" * 64, now)  # never backwards
    assert [ln["seq"] for ln in _lines(access)] == [1, 6]


def test_the_scheduled_retention_prune_signs_its_mark(access, cli, clock):
    _fill(access, 12, start=clock.now() - dt.timedelta(days=2000))
    [job] = [j for j in access.jobs() if j.name == "audit_retention"]
    assert job.run("2025-06-02", clock.now()) == "12"
    assert any(ln["kind"] == "prune" and ln["pruned_through_seq"] == 12 for ln in _lines(access))
    code, out = cli("audit", "verify")
    assert code == 0, out


def test_the_checkpoint_job_anchors_entries_after_a_quiet_spell(access):
    _fill(access, 3)  # checkpoint at 1; 2 and 3 not yet anchored
    [job] = [j for j in access.jobs() if j.name == "audit_checkpoint"]
    assert job.run("x", access.clock.now()) == "not due"
    assert job.run("x", access.clock.now() + dt.timedelta(minutes=61)) == "entry 3 signed"
    assert [ln["seq"] for ln in _lines(access)] == [1, 3]


def test_a_prune_from_before_checkpoints_existed_is_adopted_once(access, cli, clock):
    _fill(access, 6)
    with access.db.write() as conn:  # a prune done by a gateway without checkpoints
        audit.prune(conn, clock.now() + dt.timedelta(days=2, hours=1), clock.now())
    code, out = cli("audit", "verify")
    assert code == 1 and "prefix-deleted" in out
    code, out = cli("audit", "checkpoint", "--adopt-prune-mark")
    assert code == 0 and "entries 1..2 adopted" in out, out
    assert cli("audit", "verify")[0] == 0


def test_an_unwritable_checkpoint_file_does_not_withhold_answers(access, authed, tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    access.audit_checkpoints.path = blocked / "audit-checkpoints.jsonl"  # cannot be created
    client = authed("finance")
    for _ in range(3):
        assert client.get("/v1/access/whoami").status_code == 200  # entries stored, answers given
    assert sum("audit checkpoint" in r.getMessage() for r in caplog.records) == 1  # tried once, then waits
