"""`make run` (`gateway run --demo`) ends with a "what now" block; following only what it prints
reaches the console, the API docs, a bank's credit query and a land office's eligibility
check. Its commands are run here, as printed, against the running demo."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time

import httpx
import pytest

from tests.factories import make_uscc, penalty
from tests.ops.served import serve

RULE = "─" * 72


def _block(text: str) -> list[str]:
    start = text.index(RULE + "\nwhat now")
    end = text.index(RULE, start + len(RULE))
    return text[start:end].splitlines()[1:]


def _run_printed(command: str) -> dict:
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (command, done.stderr)
    return json.loads(done.stdout)


@pytest.mark.slow
def test_make_run_prints_what_now_and_every_printed_command_works(tmp_path):
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}", "GATEWAY_KEYS_DIR": str(tmp_path / "keys")}
    with serve("run", "--demo", env=env, timeout=120) as served:
        text = served.wait_for_stdout(re.escape(RULE) + r"\nwhat now(.|\n)*" + re.escape(RULE), timeout=180)
        block = _block(text)
        url = served.url
        joined = "\n".join(block)
        assert f"{url}/console/" in joined and f"{url}/docs/" in joined
        assert str(tmp_path / "gateway.db") in joined and str(tmp_path / "demo-run" / "gateway.log") in joined
        assert (tmp_path / "demo-run" / "gateway.log").stat().st_size > 0
        # the console and the API docs answer; the operator key logs in
        operator = re.search(r"log in with the operator key (gw_\S+)", joined).group(1)
        assert "login-form" in httpx.get(f"{url}/console/", timeout=30).text
        assert "swagger-ui" in httpx.get(f"{url}/docs/", timeout=30).text
        login = httpx.post(f"{url}/console/login", data={"api_key": operator}, timeout=30)
        assert login.status_code == 303 and "gw_console" in login.headers.get("set-cookie", ""), login.text
        # the two partner requests, run exactly as printed
        commands = [line.strip() for line in block if line.strip().startswith("curl ")]
        assert len(commands) == 2
        credit = _run_printed(commands[0])
        assert credit["uscc"] == "91510705MA6A8K2LXQ" and any(
            item["list_kind"] == "joint_punishment" for item in credit["lists"]), credit
        assert credit["standing"] == "restricted", credit
        check = _run_printed(commands[1])
        assert check["counts"]["restricted"] == 1 and check["counts"]["eligible"] == 1, check
        # each deliberate rejection explained in one line, none unexplained
        refused = block[block.index("  the example rows refused on purpose:") + 1:]
        refused = [line for line in refused if line.startswith("    ")]
        assert len(refused) == 5 and not any("not a deliberate" in line for line in refused), refused
        # the on-time rate is measured on dates near today: neither nothing nor 0 %
        on_time = next(line for line in block if "双公示 on time" in line)
        assert re.search(r"MY-YJJ [1-9]\d* %", on_time), on_time
        # the demo keeps flowing: a record sent now is pushed by the scheduler, no feeder involved
        headers = {"Authorization": f"Bearer {operator}"}
        before = httpx.get(f"{url}/v1/deliveries", params={"destination": "credit-china", "limit": 500},
                           headers=headers, timeout=30).json()
        today = dt.date.today().isoformat()
        sent = httpx.post(f"{url}/v1/records:batch", params={"agency": "MY-YJJ"}, headers=headers, timeout=30,
                          json={"records": [penalty("after-demo-1", make_uscc(4242, "510700"), decided=today)]})
        assert sent.status_code == 200 and sent.json()["results"][0]["outcome"] == "accepted", sent.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = httpx.get(f"{url}/v1/deliveries", params={"destination": "credit-china", "limit": 500},
                              headers=headers, timeout=30).json()
            if len(after["items"]) > len(before["items"]):
                break
            time.sleep(1)
        else:
            raise AssertionError("no new bulletin for credit-china within 60 s of a new record")
    assert "Traceback" not in "".join(served.stderr), "".join(served.stderr)[-3000:]
