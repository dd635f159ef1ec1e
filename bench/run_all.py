"""Run every benchmark in one go (`make bench`); each prints its own figures and ratios.

    .venv/bin/python bench/run_all.py            # the sizes the issues name (long: an hour and more)
    .venv/bin/python bench/run_all.py --quick    # smaller sizes, same comparisons
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["intake.py", "--records", "20000"],
    ["decide.py", "--subjects", "100000"],
    ["sign.py"],
    ["deliver.py", "--count", "3000", "--repeat", "3"],
    ["query.py", "--subjects", "1000000"],
    ["pipeline.py", "--rows", "100000"],
    ["scale.py", "--large", "10000000"],  # PostgreSQL only; loading 10,000,000 subjects is most of the time
]
QUICK = [
    ["intake.py", "--records", "5000"],
    ["decide.py", "--subjects", "10000"],
    ["sign.py", "--repeat", "20"],
    ["deliver.py", "--count", "1000"],
    ["query.py", "--subjects", "20000", "--seconds", "4"],
    ["pipeline.py", "--rows", "20000"],
    ["scale.py", "--large", "100000", "--seconds", "4"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = 0
    for script, *rest in QUICK if args.quick else FULL:
        print(f"\n=== bench/{script} {' '.join(rest)} ===", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / script), *rest]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
