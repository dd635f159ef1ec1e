"""The repository stands on its own: no file refers to one outside it, README's layout names
every package on disk, and the example USCCs in the docs are valid codes."""

from __future__ import annotations

import re
import subprocess

from gateway.domain.identifiers import IdentifierError, idcard
from gateway.domain.identifiers import uscc as uscc_codes
from gateway.paths import ROOT

TEXT = (".py", ".md", ".yaml", ".yml", ".toml", ".xsd", ".xml", ".json", ".html", ".js", ".css", ".cfg", ".txt",
        ".csv", "Makefile", "Dockerfile", "run")
_OUTSIDE = re.compile(r"\.\./shared|/work/|\.\./\.\./")
_MD = re.compile(r"(?<![\w./-])([\w./-]+\.md)\b")
_USCC_LIKE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Y]{2}\d{6}[0-9A-Za-z]{10})(?![0-9A-Za-z])")


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if p.endswith(TEXT) and (ROOT / p).is_file()]


def test_no_file_refers_to_a_file_outside_the_repository():
    files = _tracked()
    names = {p.rsplit("/", 1)[-1] for p in files} | set(files)
    offenders = []
    for rel in files:
        if rel == "tests/test_self_contained.py":
            continue
        text = (ROOT / rel).read_text(encoding="utf-8", errors="replace")
        offenders += [f"{rel}: {m.group(0)}" for m in _OUTSIDE.finditer(text)]
        for m in _MD.finditer(text):
            ref = m.group(1)
            if ref.startswith(("http", "/")) or ref.rsplit("/", 1)[-1] in names or ref.lstrip("./") in names:
                continue
            offenders.append(f"{rel}: {ref}")
    assert offenders == []


def test_readme_layout_lists_every_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"^((?:gateway|adapters)/[\w]+/)", layout, re.M))
    on_disk = {f"{d.relative_to(ROOT).as_posix()}/" for top in ("gateway", "adapters")
               for d in (ROOT / top).iterdir() if d.is_dir() and any(d.glob("*.py"))}
    assert on_disk - listed == set(), "README's layout misses these packages"
    assert listed - on_disk == set(), "README's layout names packages that are gone"


def test_example_uscc_codes_in_the_docs_are_valid():
    docs = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]
    bad = []
    for rel in docs:
        for m in _USCC_LIKE.finditer((ROOT / rel).read_text(encoding="utf-8")):
            code = m.group(1)
            if uscc_codes.is_placeholder(code) or idcard.is_valid(code):  # an ID number (身份证) is not one
                continue
            try:
                uscc_codes.validate(code)
            except IdentifierError as exc:
                bad.append(f"{rel}: {code}: {exc}")
    assert bad == [], "make valid ones with `gateway uscc make DIVISION SEQ`"
