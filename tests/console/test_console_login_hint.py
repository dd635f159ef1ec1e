"""The console's login page tells how to get a key: its commands work as printed."""

from __future__ import annotations

import html
import os
import re
import shlex
import subprocess

import httpx
import pytest

from tests.ops.served import GATEWAY, serve


@pytest.mark.slow
def test_the_login_hint_is_commands_that_issue_a_working_operator_key(anonymous, tmp_path):
    page = anonymous.get("/console/")
    assert page.status_code == 200
    commands = [html.unescape(c) for c in re.findall(r"<pre class=\"hint\">(.*?)</pre>", page.text, re.S)
                for c in re.findall(r"<code>(.*?)</code>", c)]
    assert [c.split()[:3] for c in commands] == [["gateway", "partners", "add"], ["gateway", "keys", "issue"]]
    env = {**os.environ, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "GATEWAY_KEYS_DIR": str(tmp_path / "keys")}
    subprocess.run([GATEWAY, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    out = ""
    for command in commands:
        argv = shlex.split(command)
        done = subprocess.run([GATEWAY, *argv[1:]], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        out = done.stdout
    key = re.search(r"API key \(shown once, store it now\): (gw_\S+)", out).group(1)
    with serve("serve", env=env) as served:
        who = httpx.get(served.url + "/v1/access/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert who.status_code == 200 and who.json()["sector"] == "operator", who.text
        login = httpx.post(served.url + "/console/login", data={"api_key": key}, timeout=30)
        assert login.status_code in (200, 303), login.text
