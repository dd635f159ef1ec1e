"""`bench/deliver.py` runs as documented (it once died unseen with a TypeError): a tiny run
prints each raw/outbox pair with its CPU per request, the median of repeated pairs, and the
worker's profile by stage."""

from __future__ import annotations

import re
import subprocess
import sys

from gateway.paths import ROOT


def test_the_delivery_bench_prints_ratios_cpu_per_request_and_the_worker_profile():
    out = subprocess.run(
        [sys.executable, "bench/deliver.py", "--count", "40", "--concurrency", "8", "--databases", "sqlite",
         "--modes", "receipt,ack", "--repeat", "2", "--profile"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    pairs = re.findall(r"^sqlite +(receipt|ack) +raw +\d+/s +outbox +\d+ deliveries/s .* ratio (\d\.\d\d) +"
                       r"CPU ms/request: raw client \d+\.\d\d dest \d+\.\d\d \| worker \d+\.\d\d dest \d+\.\d\d$",
                       out.stdout, re.M)
    assert [mode for mode, _ in pairs] == ["receipt", "receipt", "ack", "ack"], out.stdout
    assert all(float(ratio) > 0 for _, ratio in pairs)
    assert re.search(r"^sqlite +receipt +ratio median \d\.\d\d \(range", out.stdout, re.M), out.stdout
    assert "(outbox ended with" not in out.stdout, out.stdout
    for stage in ("verify receipt", "HTTP push", "record results (db thread)", "claim (db thread)"):
        assert re.search(rf"^ +{re.escape(stage)} +\d+\.\d%$", out.stdout, re.M), (stage, out.stdout)
