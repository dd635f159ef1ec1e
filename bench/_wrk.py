"""Driving HTTP with wrk (a C load generator: a Python client would measure itself) and serving
an app in a process of its own.

`run_wrk(base, paths, headers, seconds, connections)` picks a random path of `paths` for each
request (a Lua script) and returns requests/s, p50/p99 latency and non-2xx answers, read from
wrk's own summary.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LUA = r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
%(headers)s
math.randomseed(7)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRK_JSON {"requests": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "non_2xx": %%d, "socket_errors": %%d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), latency.max, summary.errors.status, errors))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def run_wrk(base: str, paths: list[str], headers: dict[str, str], seconds: float, connections: int = 16,
            threads: int = 1) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="gw-wrk-"))
    (work / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    (work / "script.lua").write_text(LUA % {"paths": work / "paths.txt", "headers": header_lines}, encoding="utf-8")
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s",
                          "-s", str(work / "script.lua"), base], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    shutil.rmtree(work, ignore_errors=True)
    return {"rps": data["requests"] / data["seconds"], "p50_ms": data["p50_us"] / 1000, "p99_ms": data["p99_us"] / 1000,
            "max_ms": data["max_us"] / 1000, "requests": data["requests"], "errors": data["non_2xx"] + data["socket_errors"]}


def spawn(script: Path, *args: str) -> tuple[subprocess.Popen, str, int]:
    """Run `script --serve ... --port P` and wait until it listens; (process, base url, port)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), *args, "--port", str(port)], cwd=script.parent.parent)
    wait_listening(port, proc)
    return proc, f"http://127.0.0.1:{port}", port


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
