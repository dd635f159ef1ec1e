"""`gateway watchlists list | changes | dispatch | digest`, as an operator runs them."""

from __future__ import annotations

import json

from gateway.cli import main
from tests.access.access_helpers import LISTED, seed_listed_subject
from tests.watchlists.conftest import BANK_DESTINATION


def test_an_operator_lists_watchlists_dispatches_and_reads_their_changes(authed, access, db, capsys):
    bank = authed("finance")
    poll = bank.post("/v1/watchlists", json={"name": "poll", "mode": "poll", "subjects": [LISTED]}).json()
    bank.post("/v1/watchlists", json={"name": "hook", "mode": "webhook", "destination": BANK_DESTINATION,
                                      "subjects": [LISTED]})
    seed_listed_subject(authed("agency"), access)
    capsys.readouterr()
    assert main(["watchlists", "list", "--database-url", db.url]) == 0
    out = capsys.readouterr().out
    assert poll["id"] in out and "2 watchlist(s)" in out
    assert main(["watchlists", "dispatch", "--database-url", db.url]) == 0
    assert "2 change(s) numbered; 1 sent in 1 bulletin(s)" in capsys.readouterr().out
    assert main(["watchlists", "dispatch", "--database-url", db.url]) == 0
    assert "0 change(s) numbered; 0 sent in 0 bulletin(s)" in capsys.readouterr().out
    assert main(["watchlists", "digest", "--database-url", db.url]) == 0
    assert "0 sent" in capsys.readouterr().out
    assert main(["watchlists", "changes", poll["id"], "--database-url", db.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    change = json.loads(lines[0])
    assert change["subject"] == LISTED and "listed:joint_punishment" in change["changes"]
    assert lines[-1] == f"next: {change['cursor']}"


def test_an_unknown_watchlist_is_one_line_on_stderr_and_exit_2(db, capsys):
    assert main(["watchlists", "changes", "wl-nope", "--database-url", db.url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no watchlist 'wl-nope'" in err[0]
