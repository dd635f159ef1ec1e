"""The audit log: every partner request recorded, the chain detects edits, deletions and
reorderings and names the entry, pruning keeps it verifiable, concurrent appends never fork."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, select, update

from gateway.access import audit
from gateway.store.access_tables import audit_chain, audit_log
from tests.factories import make_uscc

A = make_uscc(51)


def _fill(services, n: int = 10, start: dt.datetime | None = None) -> None:
    at = start or services.clock.now()
    with services.db.write() as conn:
        audit.append(conn, [audit.AuditEntry(actor=f"k{i:03d}", action="gateway.api.credit.get_credit", outcome="ok",
                                             organisation="91510700700001012B", sector="finance", subject=A, status=200,
                                             at=at + dt.timedelta(days=i), detail={"i": i}) for i in range(1, n + 1)],
                     services.clock.now())


def _verify(services) -> audit.Verification:
    with services.db.read() as conn:
        return audit.verify(conn)


def test_each_partner_request_is_recorded_with_who_what_and_the_request_id(authed, access):
    bank = authed("finance")
    r = bank.get(f"/v1/credit/{A}?purpose=loan_application", headers={"X-Request-Id": "req-123"})
    assert r.status_code == 404 and r.headers["x-request-id"] == "req-123"
    entries = authed("operator").get("/v1/audit", params={"actor": bank.key.key_id}).json()["items"]
    [e] = entries
    assert (e["organisation"], e["sector"], e["purpose"], e["subject"], e["outcome"], e["status"], e["request_id"]) == (
        bank.key.key_id and e["organisation"], "finance", "loan_application", A, "subject-not-found", 404, "req-123")
    assert e["action"] == "gateway.api.credit.get_credit"
    assert _verify(access).ok


def test_the_audit_api_filters_by_organisation_subject_and_time(authed, access):
    _fill(access, 5)
    op = authed("operator")
    since = (access.clock.now() + dt.timedelta(days=2)).isoformat()
    until = (access.clock.now() + dt.timedelta(days=4)).isoformat()
    items = op.get("/v1/audit", params={"subject": A, "from": since, "to": until}).json()["items"]
    assert [e["actor"] for e in items] == ["k002", "k003"]
    assert op.get("/v1/audit", params={"organisation": "nobody"}).json()["items"] == []
    assert op.get("/v1/audit:verify").json()["ok"] is True


def test_an_intact_chain_verifies(access):
    _fill(access, 20)
    result = _verify(access)
    assert result.ok and result.checked == 20 and (result.first_seq, result.last_seq) == (1, 20)


def test_an_edited_entry_is_named(access):
    _fill(access)
    with access.db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(outcome="forbidden"))
    result = _verify(access)
    assert [(b.seq, b.kind) for b in result.breaks] == [(4, "edited")]


def test_an_edit_that_also_fixes_the_entry_hash_is_named_by_the_next_entry(access):
    _fill(access)
    with access.db.write() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == 4)).one()
        values = {**row._mapping, "outcome": "forbidden"}
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(outcome="forbidden", entry_hash=audit.entry_hash(values)))
    assert [(b.seq, b.kind) for b in _verify(access).breaks] == [(5, "reordered")]


def test_a_deleted_entry_is_named(access):
    _fill(access)
    with access.db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 6))
    breaks = _verify(access).breaks
    assert breaks[0].seq == 6 and breaks[0].kind == "deleted"


def test_deleting_the_newest_entries_is_caught_by_the_chain_head(access):
    _fill(access)
    with access.db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 9))
    [b] = _verify(access).breaks
    assert b.seq == 9 and b.kind == "deleted"


def test_reordered_entries_are_named(access):
    _fill(access)
    with access.db.write() as conn:  # swap entries 3 and 7 whole, hashes and all
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=1003))
        conn.execute(update(audit_log).where(audit_log.c.seq == 7).values(seq=3))
        conn.execute(update(audit_log).where(audit_log.c.seq == 1003).values(seq=7))
    breaks = _verify(access).breaks
    assert breaks and breaks[0].seq == 3 and {b.seq for b in breaks} >= {3, 7}


def test_pruning_keeps_the_chain_verifiable_from_its_checkpoint(access, clock):
    _fill(access, 10)
    with access.db.write() as conn:
        removed = audit.prune(conn, clock.now() + dt.timedelta(days=4, hours=1), clock.now())
        head = conn.execute(select(audit_chain)).one()
    assert removed == 4 and head.pruned_through_seq == 4
    result = _verify(access)
    assert result.ok and (result.first_seq, result.last_seq) == (5, 10)
    with access.db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    assert _verify(access).breaks[0].seq == 5
    _fill(access, 1)


def test_the_retention_job_prunes_by_the_setting(access, clock):
    from gateway.access.jobs import jobs
    from gateway.access.settings import load_access_settings

    _fill(access, 3, start=clock.now() - dt.timedelta(days=40))
    [job] = [j for j in jobs(access.db, access.clock, load_access_settings(audit_retention_days=30))
             if j.name == "audit_retention"]
    assert job.name == "audit_retention" and job.name in {j.name for j in access.jobs()}
    job.run("2025-06-02", clock.now())
    result = _verify(access)
    assert result.ok and result.checked == 0


def test_concurrent_appenders_never_fork_the_chain(access):
    def worker(n: int) -> None:
        for i in range(25):
            audit.record(access.db, audit.AuditEntry(actor=f"w{n}", action="test", outcome="ok", detail={"i": i}),
                         access.clock.now())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = _verify(access)
    assert result.ok and result.checked == 150 and result.last_seq == 150


def test_operator_commands_are_audited(access, tmp_path, monkeypatch, capsys):
    from gateway.access.testing import partner_uscc
    from gateway.cli import main

    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path))
    url = access.db.url
    code = partner_uscc("land", 77)
    assert main(["partners", "add", code, "某自然资源局", "--sector", "land", "--database-url", url]) == 0
    assert main(["keys", "issue", code, "--days", "10", "--database-url", url]) == 0
    token = [ln for ln in capsys.readouterr().out.splitlines() if "shown once" in ln][0].split()[-1]
    assert token.startswith("gw_")
    assert main(["audit", "verify", "--database-url", url]) == 0
    with access.db.read() as conn:
        actions = [r.action for r in audit.query(conn)]
    assert actions == ["partners add", "keys issue"]
    with access.db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="cli:someone-else"))
    assert main(["audit", "verify", "--database-url", url]) == 1
    assert "entry 2: edited" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["partners add 123 x --sector land", "partners add {code} x --sector moon"])
def test_cli_refuses_bad_partners(access, bad, capsys):
    from gateway.access.testing import partner_uscc
    from gateway.cli import main

    argv = bad.format(code=partner_uscc("land", 78)).split() + ["--database-url", access.db.url]
    with pytest.raises(SystemExit) if "moon" in bad else _nothing():
        assert main(argv) == 2


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
