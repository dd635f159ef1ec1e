"""`gateway policy recompute|sweep` and `gateway list-entries list|show|transition`."""

from __future__ import annotations

import json

from policy_store_helpers import post

from gateway.cli import main
from gateway.cli._common import os_actor
from tests.factories import accident, make_uscc

UNIT = make_uscc(801)


def _proposed(client) -> None:  # noqa: ANN001
    for source_id, day in (("A1", "2024-09-01"), ("A2", "2025-01-10"), ("A3", "2025-05-20")):
        post(client, accident(source_id, UNIT, day))


def test_recompute_and_sweep(client, db, capsys):
    _proposed(client)
    assert main(["policy", "recompute", "--all", "--database-url", db.url]) == 0
    assert "1 subject(s)" in capsys.readouterr().out
    assert main(["policy", "recompute", UNIT, "--database-url", db.url]) == 0
    assert main(["policy", "recompute", make_uscc(899), "--database-url", db.url]) == 1
    assert main(["policy", "recompute", "--database-url", db.url]) == 2
    capsys.readouterr()
    assert main(["policy", "sweep", "--date", "2025-06-02", "--database-url", db.url]) == 0
    assert "expired=0" in capsys.readouterr().out


def test_list_show_and_transition(client, db, capsys):
    _proposed(client)
    capsys.readouterr()
    assert main(["list-entries", "list", "--list", "joint_punishment", "--database-url", db.url]) == 0
    uid, kind, state, subject = capsys.readouterr().out.split("\t")[:4]
    assert (kind, state, subject) == ("joint_punishment", "proposed", UNIT)
    assert main(["list-entries", "transition", uid, "notify", "--database-url", db.url]) == 0
    assert json.loads(capsys.readouterr().out)["entry"]["state"] == "notified"
    assert main(["list-entries", "transition", uid, "publish", "--database-url", db.url]) == 1
    assert "allowed: confirm, drop, revoke" in capsys.readouterr().err
    assert main(["list-entries", "show", uid, "--database-url", db.url]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert [(e["action"], e["actor"]) for e in events] == [("propose", "system"), ("notify", os_actor())]
    assert main(["list-entries", "show", "ent_nope", "--database-url", db.url]) == 1
