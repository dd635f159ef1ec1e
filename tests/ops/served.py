"""A gateway served by its own command in a child process (`gateway serve` or `gateway run`), for
the tests that must see what a real server does (uvicorn, not the in-process test client)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GATEWAY = str(Path(sys.executable).parent / "gateway")
_LISTENING = re.compile(r"gateway listening on (http://\S+)")


@dataclass
class Served:
    url: str
    proc: subprocess.Popen
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def wait_for_stdout(self, pattern: str, timeout: float) -> str:
        """The text printed so far once a line matches `pattern` (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "".join(self.stdout)
            if re.search(pattern, text):
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not printed; stdout:\n{''.join(self.stdout)}\nstderr:\n"
                             f"{''.join(self.stderr)[-4000:]}")


def _pump(stream, sink: list[str]) -> None:  # noqa: ANN001
    for line in stream:
        sink.append(line)


@contextlib.contextmanager
def serve(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float = 90.0) -> Iterator[Served]:
    """`gateway <args> --host 127.0.0.1 --port 0`; yields once it says where it listens."""
    proc = subprocess.Popen([GATEWAY, *args, "--host", "127.0.0.1", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=cwd)
    served = Served("", proc)
    threads = [threading.Thread(target=_pump, args=(proc.stdout, served.stdout), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, served.stderr), daemon=True)]
    for t in threads:
        t.start()
    try:
        text = served.wait_for_stdout(_LISTENING.pattern, timeout)
        served.url = _LISTENING.search(text).group(1)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for t in threads:
            t.join(5)
