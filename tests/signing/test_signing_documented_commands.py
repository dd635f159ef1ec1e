"""Every `xmlsec1` command the documents give (docs/, README.md, the adapters, the evidence
zip's README) is run as written against a genuine document, which passes, and against a
forgery re-signed with another key that carries only a <ds:KeyValue>, which must fail; an
eligibility report forged from restricted to eligible among them. The commands must take keys
only from X.509 certificates in a trusted store."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from signing_helpers import ISSUER, NOW, header, keyvalue_forgery, long_key, penalty

from gateway.access.eligibility import SCHEMA, build_report
from gateway.access.keys import Principal
from gateway.paths import ROOT
from gateway.publication.bulletin import parse_bulletin, sign_bulletin
from gateway.signing import xsd
from gateway.signing.dsig import Trust
from gateway.signing.evidence import README as EVIDENCE_README
from gateway.signing.receipt import ItemOutcome, build_receipt
from gateway.signing.signer import sign_xml

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(
    XMLSEC1 is None, reason="xmlsec1 is not installed (apt-get install xmlsec1; .ci/run installs it)"
)
GW, DEST, EVIL = "gw-long", "dest-long", "evil-long"
# the files the documented commands name: (which document or whose certificate)
DOCUMENTS = {"bulletin.xml": "bulletin", "report.xml": "report", "receipt.xml": "receipt", "receipt-1.xml": "receipt"}
CERTIFICATES = {"gateway-cert.pem": GW, "certificates/gateway.pem": GW, "destination-cert.pem": DEST,
                "certificates/receipt-1.pem": DEST}
SIGNER = {"bulletin": GW, "report": GW, "receipt": DEST}
LISTED = "91510700MA62345678"


def documented_commands() -> list[tuple[str, str]]:
    sources = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
               for p in [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", *(ROOT / "adapters").rglob("*.md"),
                         *(ROOT / "adapters").rglob("*.py")]}
    sources["gateway/signing/evidence.py README"] = EVIDENCE_README
    found = []
    for name, text in sources.items():
        for line in text.splitlines():
            match = re.match(r"^\s*(?:\$\s*)?(xmlsec1\s+(?:-|verify\b|sign\b).*?)\s*(?:#.*)?$", line)
            if match:
                found.append((name, match.group(1)))
    return found


COMMANDS = documented_commands()


def test_the_documents_give_the_commands_and_each_trusts_only_x509_from_a_trusted_store():
    where = {name for name, _ in COMMANDS}
    assert {"docs/signing.md", "docs/partner-guide.md", "gateway/signing/evidence.py README"} <= where
    assert len(COMMANDS) >= 7
    for name, command in COMMANDS:
        argv = shlex.split(command)
        assert argv[1] == "--verify", (name, command)
        assert "--enabled-key-data" in argv and argv[argv.index("--enabled-key-data") + 1] == "x509", (name, command)
        assert "--trusted-pem" in argv, (name, command)
        assert not {"--pubkey-cert-pem", "--pubkey-pem", "--pubkey-der", "--keys-file"} & set(argv), (name, command)


def _report(restricted: bool = True) -> bytes:
    principal = Principal(key_id="0123456789ab", kind="api_key", partner_id=1, organisation="91510700MA6BBBBBB0",
                          name="land bureau", sector="land", agency_code=None, scopes=frozenset())
    bidder = {"index": 1, "code": LISTED, "name": "绵阳某矿业有限公司", "status": "restricted", "restrictions": [{
        "list_kind": "joint_punishment", "title_zh": "联合惩戒对象名单", "entry": "le-1", "state": "published",
        "starts_on": "2024-06-01", "expires_on": "2025-05-31", "cases": ["jp01_accident"],
        "measure_zh": "限制参与土地招拍挂", "legal_basis": "《安全生产法》第七十八条", "source": "policy"}]}
    body = {"report_id": "elg_0001", "issued_at": NOW.isoformat(timespec="seconds"), "as_of": NOW.date().isoformat(),
            "purpose": "land_auction", "receiver": "land", "reference": None, "profile": "municipal-2021",
            "list_source": "entries", "bidders": [bidder],
            "counts": {"eligible": 0, "restricted": 1, "unknown": 0, "invalid": 0, "pending": 0}}
    root = build_report(body, ISSUER, principal)
    assert xsd.validate(SCHEMA, root) == []
    return sign_xml(root, long_key(GW))


@pytest.fixture(scope="module")
def genuine() -> dict[str, bytes]:
    bulletin = sign_bulletin(header(), [penalty()], long_key(GW))
    receipt = build_receipt(parse_bulletin(bulletin, Trust.for_keys("gw", [long_key(GW)]), now=NOW),
                            [ItemOutcome("i-1", "rejected", "E1", "CF_JDRQ")], key=long_key(DEST), delivery_id="d-1",
                            receiver="credit-china", received=NOW)
    return {"bulletin": bulletin, "report": _report(), "receipt": receipt}


# what a forger changes in each document: the penalty amount, a rejection into acceptance,
# and the bidder from restricted to eligible
CHANGES = {"bulletin": ("叁万元".encode(), "壹万元".encode()),
           "receipt": (b'status="rejected"', b'status="accepted"'),
           "report": (b'status="restricted"', b'status="eligible"')}


def _workdir(tmp_path: Path, documents: dict[str, bytes]) -> Path:
    (tmp_path / "certificates").mkdir(parents=True, exist_ok=True)
    for name, signer in CERTIFICATES.items():
        (tmp_path / name).write_bytes(long_key(signer).certificate_pem())
    for name, kind in DOCUMENTS.items():
        (tmp_path / name).write_bytes(documents[kind])
    return tmp_path


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    named = [a for a in argv if a.endswith((".xml", ".pem"))]
    unknown = [a for a in named if a not in DOCUMENTS and a not in CERTIFICATES]
    assert not unknown, f"{command}: the test does not know the files {unknown}: name them as the others"
    return subprocess.run([XMLSEC1, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=60)


def _pairing_is_consistent(command: str) -> None:
    argv = shlex.split(command)
    document = DOCUMENTS[argv[-1]]
    assert CERTIFICATES[argv[argv.index("--trusted-pem") + 1]] == SIGNER[document], command


@pytest.mark.parametrize(("source", "command"), COMMANDS, ids=[f"{s}: {c}" for s, c in COMMANDS])
def test_each_documented_command_passes_a_genuine_document_and_fails_a_keyvalue_forgery(
        tmp_path, genuine, source, command):
    _pairing_is_consistent(command)
    ok = _run(command, _workdir(tmp_path / "genuine", genuine))
    assert ok.returncode == 0, ok.stderr
    assert "SignedInfo References (ok/all): 1/1" in ok.stderr
    forged = {kind: keyvalue_forgery(data, long_key(EVIL), CHANGES[kind]) for kind, data in genuine.items()}
    bad = _run(command, _workdir(tmp_path / "forged", forged))
    assert bad.returncode != 0, f"{source}: `{command}` accepted a KeyValue-only forgery:\n{bad.stderr}"


def test_the_old_commands_accepted_the_forged_report(tmp_path, genuine):
    # the reason for the options: without --enabled-key-data x509, xmlsec1 takes the forger's
    # KeyValue from the document and a report changed from restricted to eligible verifies
    forged = {kind: keyvalue_forgery(data, long_key(EVIL), CHANGES[kind]) for kind, data in genuine.items()}
    cwd = _workdir(tmp_path, forged)
    assert b'status="eligible"' in (cwd / "report.xml").read_bytes()
    for old in ("--pubkey-cert-pem", "--trusted-pem"):
        result = subprocess.run([XMLSEC1, "--verify", old, "gateway-cert.pem", "report.xml"], cwd=cwd,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
