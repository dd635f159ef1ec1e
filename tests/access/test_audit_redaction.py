"""What the audit log keeps of a request: never a full ID number (身份证号: masked, plus a keyed
hash so an operator can still search by the number), never a secret passed in the query string."""

from __future__ import annotations

import json

from sqlalchemy import text

from gateway.access import audit
from gateway.cli import main
from tests.access.access_helpers import PERSON_ID, violation
from tests.factories import make_uscc


def _raw_rows(services) -> str:
    """Every stored audit row as text, straight from the table (what a database reader sees)."""
    with services.db.read() as conn:
        rows = conn.execute(text("SELECT * FROM audit_log ORDER BY seq")).mappings().all()
    return json.dumps([dict(r) for r in rows], default=str, ensure_ascii=False)


def test_an_id_number_in_the_path_is_stored_masked_with_a_keyed_hash(authed, access, operator):
    authed("agency").post("/v1/records", json=violation("V-ID", make_uscc(71)))
    r = operator.get(f"/v1/subjects/person:{PERSON_ID}")
    assert r.status_code in (200, 404), r.text
    stored = _raw_rows(access)
    assert PERSON_ID not in stored  # not in subject, path, detail or anywhere else
    assert "510703********1232" in stored
    found = operator.get("/v1/audit", params={"subject": PERSON_ID}).json()["items"]
    assert found and all(e["action"] == "gateway.api.subjects.get_subject" for e in found)
    assert all(PERSON_ID not in json.dumps(e) for e in found)
    with access.db.read() as conn:
        assert audit.verify(conn).ok


def test_the_hash_is_keyed_not_a_plain_digest(access, operator):
    import hashlib

    operator.get(f"/v1/subjects/person:{PERSON_ID}")
    stored = _raw_rows(access)
    for digest in (hashlib.sha256(PERSON_ID.encode()).hexdigest(), hashlib.md5(PERSON_ID.encode()).hexdigest()):
        assert digest[:32] not in stored  # an unkeyed digest of 10^10 candidates is a lookup table


def test_a_key_in_the_query_string_is_not_stored(access, operator):
    secret = "gw_0123456789ab_ThisIsTheSecretPartOfTheKey"
    operator.get("/v1/access/whoami", params={"api_key": secret, "token": "hunter2-secret", "limit": "5",
                                              "id": PERSON_ID})
    stored = _raw_rows(access)
    assert "ThisIsTheSecretPartOfTheKey" not in stored and "hunter2-secret" not in stored
    assert PERSON_ID not in stored
    with access.db.read() as conn:
        [entry] = [e for e in audit.query(conn) if e.action == "gateway.api.access.whoami"]
    assert entry.detail["query"]["limit"] == "5" and entry.detail["query"]["api_key"] == "[REDACTED]"


def test_the_cli_finds_entries_by_the_full_number(access, operator, settings, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(settings.keys_dir))
    operator.get(f"/v1/subjects/person:{PERSON_ID}")
    capsys.readouterr()
    assert main(["audit", "list", "--subject", PERSON_ID, "--database-url", access.db.url]) == 0
    out = capsys.readouterr().out
    assert "gateway.api.subjects.get_subject" in out and PERSON_ID not in out


def test_an_id_number_in_cli_arguments_is_masked(access, settings, monkeypatch):
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(settings.keys_dir))
    main(["deliveries", "requeue", PERSON_ID, "--database-url", access.db.url])
    assert PERSON_ID not in _raw_rows(access)
