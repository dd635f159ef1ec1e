"""Every CLI operator action is audited like an API call: the actor is the authenticated
credential (`--operator-key`'s key id, refused unless it is a valid operator key) or the OS
user (`os:<name>`), never a free-text name."""

from __future__ import annotations

import pytest

from gateway.access import audit
from gateway.access.testing import issue
from gateway.cli import main
from gateway.cli._common import os_actor
from tests.access.access_helpers import publish_proposed, violation
from tests.factories import make_uscc


@pytest.fixture
def cli(access, settings, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.delenv("GATEWAY_OPERATOR_KEY", raising=False)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main([*argv, "--database-url", access.db.url])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def _entries(services) -> list:
    with services.db.read() as conn:
        return audit.query(conn, limit=1000)


def test_agencies_add_is_audited_with_the_os_user(access, cli):
    code, out = cli("agencies", "add", "JY-AJJ", "江油市应急管理局", "--region", "510781", "--level", "district")
    assert code == 0, out
    [entry] = [e for e in _entries(access) if e.action == "agencies add"]
    assert entry.actor == os_actor() and entry.actor.startswith("os:")
    assert entry.outcome == "ok" and entry.sector == "operator"
    assert entry.detail["via"] == "cli" and entry.detail["arguments"]["code"] == "JY-AJJ"


def test_an_operator_key_is_the_actor(access, cli):
    key = issue(access, "operator", days=1500)
    code, out = cli("agencies", "add", "JY-AJJ", "江油市应急管理局", "--region", "510781", "--level", "district",
                    "--operator-key", key.token)
    assert code == 0, out
    [entry] = [e for e in _entries(access) if e.action == "agencies add"]
    assert entry.actor == key.key_id
    assert key.token not in str(entry.detail)  # the secret is never stored


@pytest.mark.parametrize("which", ["not-operator", "malformed", "revoked"])
def test_a_bad_operator_key_is_refused_before_the_command_acts(access, cli, which):
    from gateway.access import keys

    if which == "not-operator":
        token = issue(access, "finance", days=1500).token
    elif which == "malformed":
        token = "someone-else"
    else:
        revoked = issue(access, "operator", days=1500)
        with access.db.write() as conn:
            keys.revoke_key(conn, revoked.key_id, access.clock.now())
        keys.CACHE.clear()
        token = revoked.token
    code, out = cli("agencies", "add", "JY-AJJ", "江油市应急管理局", "--region", "510781", "--level", "district",
                    "--operator-key", token)
    assert code == 2 and "operator-key refused" in out, out
    code, listed = cli("agencies", "list")
    assert "JY-AJJ" not in listed
    assert not [e for e in _entries(access) if e.action == "agencies add"]


def test_the_operator_key_may_come_from_the_environment(access, cli, monkeypatch):
    key = issue(access, "operator", days=1500)
    monkeypatch.setenv("GATEWAY_OPERATOR_KEY", key.token)
    assert cli("policy", "sweep")[0] == 0
    assert [e.actor for e in _entries(access) if e.action == "policy sweep"] == [key.key_id]


def test_a_transition_from_the_cli_records_the_authenticated_actor(access, authed, cli):
    code_ = make_uscc(61)
    authed("agency").post("/v1/records", json=violation("V-CLI", code_))
    [entry] = access.policy.entries(state="proposed", limit=10)[0]
    key = issue(access, "operator", days=1500)
    code, out = cli("list-entries", "transition", entry["id"], "notify", "--operator-key", key.token)
    assert code == 0, out
    shown = access.policy.entry(entry["id"])
    assert shown["events"][-1]["actor"] == f"key:{key.key_id}"
    [audited] = [e for e in _entries(access) if e.action == "list-entries transition"]
    assert audited.actor == key.key_id and audited.subject == entry["id"]
    publish_proposed(access)


@pytest.mark.parametrize("argv, action", [
    (("policy", "sweep"), "policy sweep"),
    (("audit", "prune", "--days", "30"), "audit prune"),
    (("changes", "drain"), "changes drain"),
    (("deliveries", "requeue", "del_unknown"), "deliveries requeue"),
])
def test_operator_commands_leave_an_entry_with_their_outcome(access, cli, argv, action):
    code, out = cli(*argv)
    [entry] = [e for e in _entries(access) if e.action == action]
    assert entry.outcome == ("ok" if code == 0 else f"exit-{code}") and entry.detail["exit"] == code
    assert entry.actor.startswith("os:")


def test_import_is_audited(access, cli, tmp_path):
    f = tmp_path / "none.csv"
    f.write_text("kind,source_record_id\n", encoding="utf-8")
    code, out = cli("import", str(f), "--agency", "MY-AJJ")
    [entry] = [e for e in _entries(access) if e.action == "import"]
    assert entry.detail["arguments"]["agency"] == "MY-AJJ" and entry.detail["exit"] == code


def test_cli_entries_keep_the_chain_verifiable(access, cli):
    cli("policy", "sweep")
    cli("agencies", "add", "JY-AJJ", "江油市应急管理局", "--region", "510781", "--level", "district")
    code, out = cli("audit", "verify")
    assert code == 0, out


def test_a_refused_partner_command_is_audited_too(access, cli):
    code, out = cli("partners", "add", "91510700700001096X", "运维", "--sector", "operator")  # bad check character
    assert code == 2, out
    [entry] = [e for e in _entries(access) if e.action == "partners add"]
    assert entry.outcome == "exit-2" and entry.actor.startswith("os:")


def test_each_operator_action_is_anchored_at_once(access, cli):
    from sqlalchemy import text

    cli("policy", "sweep")
    cli("agencies", "add", "JY-AJJ", "江油市应急管理局", "--region", "510781", "--level", "district")
    with access.db.write() as conn:  # erase the last operator action and fix the head
        conn.execute(text("DELETE FROM audit_log WHERE action = 'agencies add'"))
        conn.execute(text("UPDATE audit_chain SET head_seq = head_seq - 1, head_hash = "
                          "(SELECT entry_hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)) WHERE id = 1"))
    code, out = cli("audit", "verify")
    assert code == 1 and "truncated" in out, out
