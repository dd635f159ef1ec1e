"""The documented commands of bounded parsing and the intake benchmark, run as documented."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest

from gateway.paths import ROOT


def test_the_corpus_script_writes_the_issues_files(tmp_path) -> None:
    done = subprocess.run([sys.executable, "tests/intake/hostile_corpus.py", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sizes = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    assert set(sizes) == {"wide_row.xlsx", "blank_rows.xlsx", "huge_string.xlsx", "wide_header.csv"}
    assert sizes["wide_header.csv"] == 4_000_000 + 1
    assert all(size < 3_000_000 for name, size in sizes.items() if name.endswith(".xlsx"))
    with zipfile.ZipFile(tmp_path / "blank_rows.xlsx") as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size > 1_700_000_000  # 300,000,000 × "<row/>"
    with zipfile.ZipFile(tmp_path / "huge_string.xlsx") as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size > 1 << 30


def test_the_corpus_script_without_a_directory_fails() -> None:
    done = subprocess.run([sys.executable, "tests/intake/hostile_corpus.py"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0


@pytest.mark.slow
def test_bench_intake_prints_both_paths_with_their_ratios() -> None:
    done = subprocess.run([sys.executable, "bench/intake.py", "--sqlite-only", "--records", "300",
                           "--upload-rows", "300", "--file-rows", "150"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "storage path" in out and "upload path" in out
    lines = re.findall(r"^SQLite\s+[\d,]+\s+[\d,]+\s+(\d+\.\d\d)\s+(\d+\.\d\d)-(\d+\.\d\d)\s", out, re.M)
    assert len(lines) == 2, out
    for median, low, high in lines:  # the median of the rounds' ratios, and their spread
        assert 0 < float(low) <= float(median) <= float(high), out


def test_bench_intake_phases_prints_where_an_uploads_time_goes() -> None:
    done = subprocess.run([sys.executable, "bench/intake.py", "--phases", "--upload-rows", "300",
                           "--file-rows", "150"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"^upload path in process .*: 300 rows in files of 150: [\d,]+ rows/s", out, re.M), out
    for phase in ("parse", "prepare", "storage, in all", "storage: insert_records", "the change feed", "JSON"):
        assert re.search(rf"^.*{re.escape(phase)}.*\s\d+\.\d us a row$", out, re.M), (phase, out)


def test_bench_intake_refuses_an_unknown_option() -> None:
    done = subprocess.run([sys.executable, "bench/intake.py", "--no-such-option"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr
