"""The CLI as a newcomer meets it: errors are one clean line on stderr with exit 2, and no
library warning is printed by any command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import build_parser
from gateway.paths import ROOT

GATEWAY = str(Path(sys.executable).parent / "gateway")


def _run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([GATEWAY, *args], capture_output=True, text=True, env=env, timeout=120)


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(action.choices)


def test_import_for_an_unknown_agency_is_one_clean_line_and_exit_2(tmp_path):
    done = _run("import", str(ROOT / "examples" / "penalties_gb18030.csv"), "--agency", "NOPE", db=tmp_path / "g.db")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "NOPE" in lines[0], done.stderr


@pytest.mark.slow  # every sub-command's --help in a fresh interpreter: 34 s here; .ci/run runs it
def test_no_command_prints_a_library_warning(tmp_path):
    db = tmp_path / "g.db"
    for name in _subcommands():
        done = _run(name, "--help", db=db)
        assert done.returncode == 0, (name, done.stderr)
        assert "Warning" not in done.stderr, (name, done.stderr)
    for args in (("db", "upgrade"), ("uscc", "check", "91510703MA6B1C9X36"), ("agencies", "list")):
        done = _run(*args, db=db)
        assert "Warning" not in done.stderr, (args, done.stderr)


def test_serve_starts_without_a_library_warning(tmp_path):
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    proc = subprocess.Popen([GATEWAY, "serve", "--host", "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        for line in proc.stdout:
            if "gateway listening on" in line:
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "Warning" not in err, err


def test_the_cli_builds_its_commands_afresh_on_every_call_in_one_process():
    """`main` builds its parser on each call (tests and the demo call it many times in one
    process). The `keys` table was cached by `id()` of the sub-command action: once a freed
    parser's id came back, `keys issue` was added to the dead table and the call failed with
    "conflicting subparser: issue" (tests/access/test_access_audit.py failed so, now and then).
    """
    import gc

    for _ in range(150):  # the id came back within ~30 builds when it was cached by id
        args = build_parser().parse_args(["keys", "issue", "91510700MA0000000X", "--days", "3"])
        assert (args.command, args.keys_command, args.days) == ("keys", "issue", 3)
        gc.collect()
