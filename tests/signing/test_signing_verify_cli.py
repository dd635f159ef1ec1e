"""`gateway verify FILE`: any signed document (bulletin, receipt, evidence zip) against pinned
certificates; forgeries carrying only a KeyValue, other signers and tampered content fail
with a reason (exit 1). `gateway bulletin verify` is the same command."""

from __future__ import annotations

import io
import zipfile

import pytest
from signing_helpers import header, keyvalue_forgery, long_key, penalty

from gateway.cli import main
from gateway.publication.bulletin import parse_bulletin, sign_bulletin
from gateway.signing.dsig import Trust
from gateway.signing.evidence import build_evidence_zip
from gateway.signing.receipt import ItemOutcome, build_receipt

GW, DEST, EVIL = "gw-long", "dest-long", "evil-long"


@pytest.fixture
def files(tmp_path):
    gw, dest = long_key(GW), long_key(DEST)
    bulletin = sign_bulletin(header(), [penalty(), penalty("i-2")], gw)
    verified = parse_bulletin(bulletin, Trust.for_keys("gw", [gw]))
    receipt = build_receipt(verified, [ItemOutcome("i-1", "accepted"), ItemOutcome("i-2", "rejected", "E1")], key=dest,
                            delivery_id="d-1", receiver="credit-china")
    out = {"bulletin": bulletin, "receipt": receipt, "gw.pem": gw.certificate_pem(), "dest.pem": dest.certificate_pem(),
           "evil.pem": long_key(EVIL).certificate_pem()}
    out["zip"] = build_evidence_zip(bulletin, [receipt], gateway_certificate=out["gw.pem"],
                                    receipt_certificates=[out["dest.pem"]], published={"certificates": []})
    paths = {}
    for name, data in out.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    return paths


def _run(capsys, *args) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", *map(str, args)])
    return code, capsys.readouterr().out


def test_a_genuine_bulletin_receipt_and_zip_verify(files, capsys):
    code, out = _run(capsys, files["bulletin"], "--cert", files["gw.pem"])
    assert code == 0 and out.startswith("OK (bulletin)") and "items:     2" in out
    code, out = _run(capsys, files["receipt"], "--cert", files["dest.pem"])
    assert code == 0 and "OK (receipt)" in out and "accepted 1, rejected 1" in out
    code, out = _run(capsys, files["receipt"], "--receipt-cert", files["dest.pem"], "--cert", files["gw.pem"],
                     "--bulletin", files["bulletin"])
    assert code == 0 and "matches the bulletin" in out
    code, out = _run(capsys, files["zip"], "--cert", files["gw.pem"], "--receipt-cert", files["dest.pem"])
    assert code == 0 and "OK (evidence)" in out and "receipts:  1" in out
    # the alias
    capsys.readouterr()
    assert main(["bulletin", "verify", str(files["bulletin"]), "--cert", str(files["gw.pem"])]) == 0


@pytest.mark.parametrize("kind", ["bulletin", "receipt"])
def test_a_keyvalue_only_forgery_fails(files, capsys, tmp_path, kind):
    forged = tmp_path / f"forged-{kind}.xml"
    change = ("叁万元".encode(), "壹万元".encode()) if kind == "bulletin" else (
        b'status="rejected"', b'status="accepted"')
    forged.write_bytes(keyvalue_forgery(files[kind].read_bytes(), long_key(EVIL), change))
    cert = files["gw.pem"] if kind == "bulletin" else files["dest.pem"]
    code, out = _run(capsys, forged, "--cert", cert)
    assert code == 1 and out.startswith("INVALID:") and "certificate" in out


def test_the_wrong_signer_and_tampering_fail(files, capsys, tmp_path):
    code, out = _run(capsys, files["bulletin"], "--cert", files["evil.pem"])
    assert code == 1 and "not one pinned" in out
    tampered = tmp_path / "t.xml"
    tampered.write_bytes(files["bulletin"].read_bytes().replace("叁万元".encode(), "壹万元".encode()))
    code, out = _run(capsys, tampered, "--cert", files["gw.pem"])
    assert code == 1 and "INVALID" in out
    # a receipt from the gateway's key is not the destination's
    code, out = _run(capsys, files["receipt"], "--cert", files["gw.pem"])
    assert code == 1


def _rezip(src, tmp_path, **replace) -> str:
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.pop(info.filename, None) or zin.read(info))
        for name, data in replace.items():
            zout.writestr(name, data)
    path = tmp_path / "changed.zip"
    path.write_bytes(out.getvalue())
    return path


def test_a_forged_evidence_zip_fails_even_with_its_own_certificates(files, capsys, tmp_path):
    evil = long_key(EVIL)
    forged_bulletin = keyvalue_forgery(files["bulletin"].read_bytes(), evil, ("叁万元".encode(), "壹万元".encode()))
    # the forger also swaps in his own certificate: the zip's certificates are never trusted
    path = _rezip(files["zip"], tmp_path, **{"bulletin.xml": forged_bulletin,
                                             "certificates/gateway.pem": evil.certificate_pem()})
    code, out = _run(capsys, path, "--cert", files["gw.pem"], "--receipt-cert", files["dest.pem"])
    assert code == 1 and "bulletin" in out
    # a receipt for another bulletin does not acknowledge this one
    other = sign_bulletin(header(bulletin_id="b-other"), [penalty()], long_key(GW))
    stray = build_receipt(parse_bulletin(other, Trust.for_keys("gw", [long_key(GW)])), [ItemOutcome("i-1", "accepted")],
                          key=long_key(DEST), delivery_id="d-9", receiver="credit-china")
    path = _rezip(files["zip"], tmp_path, **{"receipt-1.xml": stray})
    code, out = _run(capsys, path, "--cert", files["gw.pem"], "--receipt-cert", files["dest.pem"])
    assert code == 1 and "receipt-1.xml" in out
    # an extra document slipped in
    path = _rezip(files["zip"], tmp_path, **{"report.xml": b"<x/>"})
    code, out = _run(capsys, path, "--cert", files["gw.pem"], "--receipt-cert", files["dest.pem"])
    assert code == 1 and "report.xml" in out


def test_not_a_signed_document_and_a_missing_file(files, capsys, tmp_path):
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"<html/>")
    code, out = _run(capsys, junk, "--cert", files["gw.pem"])
    assert code == 1 and "not a document" in out
    assert main(["verify", str(tmp_path / "missing.xml"), "--cert", str(files["gw.pem"])]) == 2


def test_on_the_gateway_host_the_pins_default_to_the_keyring_and_the_destinations_trust(files, capsys, tmp_path,
                                                                                          monkeypatch):
    import yaml

    from gateway.config import get_settings

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "gw.cert.pem").write_bytes(files["gw.pem"].read_bytes())
    destinations = tmp_path / "destinations.yaml"
    destinations.write_text(yaml.safe_dump({"destinations": {"credit-china": {
        "adapter": "adapters.local:factory", "trust": str(files["dest.pem"])}}}))
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys))
    monkeypatch.setenv("GATEWAY_DESTINATIONS_FILE", str(destinations))
    get_settings.cache_clear()
    try:
        for name in ("bulletin", "receipt", "zip"):
            code, out = _run(capsys, files[name])
            assert code == 0, (name, out)
        # the receipt names a destination the file does not know: nothing pinned for it
        other = tmp_path / "other.xml"
        other.write_bytes(files["receipt"].read_bytes().replace(b">credit-china<", b">elsewhere<"))
        code, out = _run(capsys, other)
        assert code == 1 and "no pinned certificate" in out
    finally:
        get_settings.cache_clear()
