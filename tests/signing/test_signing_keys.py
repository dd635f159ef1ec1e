"""Keyring: loading, key ids, rotation, expiry warnings; the dev keyring; the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from signing_helpers import NOW, ec_key, header, penalty, rsa_key

from gateway.cli import main
from gateway.publication.bulletin import parse_bulletin, sign_bulletin
from gateway.signing.dsig import Trust
from gateway.signing.keys import (
    Keyring,
    KeyUnavailable,
    ensure_dev_keyring,
    load_keyring,
    write_key_pair,
)


def test_dev_keyring_is_generated_once_and_reloaded(tmp_path):
    first = ensure_dev_keyring(tmp_path / "keys")
    second = ensure_dev_keyring(tmp_path / "keys")
    assert len(first) == 1 and first.active.key_id == second.active.key_id
    assert len(first.active.key_id) == 16
    assert (tmp_path / "keys" / "dev-signing.key.pem").stat().st_mode & 0o077 == 0


def test_pem_and_pkcs12_keys_load_and_rotation_keeps_old_keys_verifying(tmp_path):
    old, new = rsa_key("old"), ec_key("new")
    write_key_pair(tmp_path, "old", old.private_key, old.certificate)
    (tmp_path / "new.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"new", new.private_key, new.certificate, None, BestAvailableEncryption(b"pw"))
    )
    ring = load_keyring(tmp_path, active_key_id=new.key_id[:8], passphrase=b"pw")
    assert ring.active.key_id == new.key_id and old.key_id in ring
    signed_before = sign_bulletin(header(), [penalty()], ring.get(old.key_id))
    signed_after = sign_bulletin(header(), [penalty()], ring.active)
    trust = Trust.for_keys("self", ring)
    assert parse_bulletin(signed_before, trust, now=NOW).key_id == old.key_id
    assert parse_bulletin(signed_after, trust, now=NOW).key_id == new.key_id


def test_unknown_active_key_and_empty_dir_are_named(tmp_path):
    with pytest.raises(KeyUnavailable, match="no signing keys"):
        load_keyring(tmp_path)
    with pytest.raises(KeyUnavailable, match="not in the keyring"):
        Keyring([rsa_key()], active_key_id="ffff")


def test_expiry_warnings_start_60_days_ahead():
    short = rsa_key("short", days=30)
    ring = Keyring([rsa_key(), short], active_key_id=rsa_key().key_id)
    warnings = ring.expiry_warnings(NOW)
    assert [w.key_id for w in warnings] == [short.key_id]
    assert warnings[0].days_left in (29, 30) and not warnings[0].active and not warnings[0].expired
    later = ring.expiry_warnings(NOW + dt.timedelta(days=320))
    assert [w.key_id for w in later] == [short.key_id, rsa_key().key_id]
    assert later[0].expired and later[1].active


def test_cli_generates_verifies_and_shows(tmp_path, capsys):
    assert main(["keys", "generate", "--out", str(tmp_path), "--kind", "ec", "--name", "k", "--csr",
                 "--subject", "CN=gw,O=Bureau,C=CN"]) == 0
    assert (tmp_path / "k.csr.pem").exists()
    ring = load_keyring(tmp_path)
    path = tmp_path / "b.xml"
    path.write_bytes(sign_bulletin(header(created=dt.datetime.now(dt.UTC)), [penalty()], ring.active))
    capsys.readouterr()
    assert main(["bulletin", "verify", str(path), "--cert", str(tmp_path / "k.cert.pem")]) == 0
    out = capsys.readouterr().out
    assert ring.active.key_id in out and "items:     1" in out and "CN=gw" in out
    other = tmp_path / "other"
    assert main(["keys", "generate", "--out", str(other), "--name", "o"]) == 0
    assert main(["bulletin", "verify", str(path), "--cert", str(other / "o.cert.pem")]) == 1
    assert main(["bulletin", "show", str(path)]) == 0
    assert "CF_XDR_MC" in capsys.readouterr().out
