"""API keys: stored hashed, shown once, expiry, revocation, rotation overlap, agency binding,
rate limits, client certificates from a trusted proxy."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from gateway.access import keys
from gateway.access.testing import expire_soon, headers_for, issue, partner_uscc
from gateway.store.access_tables import access_credentials
from tests.factories import make_uscc, penalty

A = make_uscc(41)


def test_only_the_hash_of_a_key_is_stored(access):
    issued = issue(access, "finance")
    assert issued.token.startswith(f"gw_{issued.key_id}_") and len(issued.token) >= 3 + 12 + 1 + 43
    with access.db.read() as conn:
        row = conn.execute(select(access_credentials).where(access_credentials.c.key_id == issued.key_id)).one()
    assert row.secret_hash == keys.hash_secret(issued.token) and issued.token not in str(tuple(row))


def test_bearer_and_x_api_key_both_authenticate(app, access):
    issued = issue(access, "finance")
    with app.test_client() as c:
        assert c.get("/v1/access/whoami", headers=headers_for(issued)).json()["sector"] == "finance"
        assert c.get("/v1/access/whoami", headers={"X-API-Key": issued.token}).json()["key_id"] == issued.key_id


@pytest.mark.parametrize("token", ["gw_nothex00000_" + "a" * 43, "not-a-key", "gw_0123456789ab_" + "b" * 43])
def test_malformed_or_unknown_keys_are_401_with_a_reason(anonymous, token):
    r = anonymous.get("/v1/access/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["reason"] in {"key_malformed", "key_unknown"}
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_the_right_key_id_with_a_wrong_secret_is_refused(app, access):
    issued = issue(access, "finance")
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    with app.test_client() as c:
        r = c.get("/v1/access/whoami", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["reason"] == "key_unknown"


def test_an_expired_key_is_refused(app, access, clock):
    issued = issue(access, "finance", days=1)
    with app.test_client(headers=headers_for(issued)) as c:
        assert c.get("/v1/access/whoami").status_code == 200
        clock.advance(days=1)
        r = c.get("/v1/access/whoami")
    assert r.status_code == 401 and r.json()["reason"] == "key_expired"


def test_a_revoked_key_and_a_revoked_partner_are_refused(app, access):
    first, second = issue(access, "finance"), issue(access, "finance")
    with access.db.write() as conn:
        keys.revoke_key(conn, first.key_id, access.clock.now())
    with app.test_client() as c:
        r = c.get("/v1/access/whoami", headers=headers_for(first))
        assert r.status_code == 401 and r.json()["reason"] == "key_revoked"
        assert c.get("/v1/access/whoami", headers=headers_for(second)).status_code == 200
        with access.db.write() as conn:
            keys.revoke_partner(conn, partner_uscc("finance"), access.clock.now())
        assert c.get("/v1/access/whoami", headers=headers_for(second)).json()["reason"] == "key_revoked"


def test_rotation_keeps_the_old_key_working_for_the_overlap_only(app, access, clock):
    old = issue(access, "land")
    with access.db.write() as conn:
        new = keys.rotate_key(conn, old.key_id, clock.now(), overlap=dt.timedelta(hours=24))
        with pytest.raises(keys.AccessError, match="already rotated"):
            keys.rotate_key(conn, old.key_id, clock.now(), overlap=dt.timedelta(hours=24))
    assert new.scopes == old.scopes and new.key_id != old.key_id
    with app.test_client() as c:
        assert c.get("/v1/access/whoami", headers=headers_for(old)).status_code == 200
        assert c.get("/v1/access/whoami", headers=headers_for(new)).status_code == 200
        clock.advance(hours=24, seconds=1)
        assert c.get("/v1/access/whoami", headers=headers_for(old)).json()["reason"] == "key_expired"
        assert c.get("/v1/access/whoami", headers=headers_for(new)).status_code == 200


def test_a_sector_cannot_be_given_scopes_outside_it(access):
    with pytest.raises(keys.AccessError, match="may not hold records:write"):
        issue(access, "finance", scopes=["records:write"])


def test_scopes_in_the_table_beyond_the_sector_are_ignored(app, access):
    from sqlalchemy import update

    issued = issue(access, "finance")
    with access.db.write() as conn:
        conn.execute(update(access_credentials).where(access_credentials.c.key_id == issued.key_id)
                     .values(scopes=["credit:read", "records:write", "audit:read"]))
    with app.test_client(headers=headers_for(issued)) as c:
        assert c.get("/v1/audit").status_code == 403
        assert "records:write" not in c.get("/v1/access/whoami").json()["scopes"]


def test_an_agency_key_writes_only_its_own_agencys_records(authed):
    agency = authed("agency", agency="MY-AJJ")
    r = agency.post("/v1/records?agency=FC-AJJ", json=penalty("P1", A))
    assert r.status_code == 403 and r.json()["type"].endswith("agency-mismatch")
    r = agency.post("/v1/records", json=penalty("P1", A))  # implied
    assert r.status_code == 201, r.text
    versions = agency.get(f"/v1/records/{r.json()['record_id']}").json()["versions"]
    assert versions[0]["agency"] == "MY-AJJ"
    assert agency.post("/v1/records?agency=MY-AJJ", json=penalty("P2", A)).status_code == 201


def test_the_rate_limit_answers_429_with_retry_after(app, access):
    from gateway.access.ratelimit import RateLimiter

    access.rate_limiter = RateLimiter({"finance": 1}, 1)
    issued = issue(access, "finance")
    with app.test_client(headers=headers_for(issued)) as c:
        assert c.get("/v1/access/whoami").status_code == 200
        r = c.get("/v1/access/whoami")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["type"].endswith("rate-limited")


# --- client certificates (mTLS through a trusted proxy) ------------------------------------


@pytest.fixture
def client_cert(access):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from gateway.access.authn import fingerprint
    from gateway.signing.keys import parse_subject, self_signed_certificate

    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_certificate(key, parse_subject("CN=bank-client,O=Bank"), days=30, now=access.clock.now())
    issue(access, "finance")  # creates the partner
    with access.db.write() as conn:
        keys.bind_certificate(conn, partner_uscc=partner_uscc("finance"), fingerprint=fingerprint(cert),
                              now=access.clock.now(), expires_at=cert.not_valid_after_utc)
    return quote(cert.public_bytes(serialization.Encoding.PEM).decode())


def test_a_client_certificate_from_a_trusted_proxy_names_the_partner(app, client_cert):
    with app.test_client(client=("10.1.2.3", 4431)) as c:
        r = c.get("/v1/access/whoami", headers={"X-Client-Cert": client_cert})
    assert r.status_code == 200 and r.json()["kind"] == "client_cert" and r.json()["sector"] == "finance"


def test_a_client_certificate_header_from_anyone_else_is_refused(app, client_cert):
    with app.test_client(client=("192.0.2.7", 4431)) as c:
        r = c.get("/v1/access/whoami", headers={"X-Client-Cert": client_cert})
    assert r.status_code == 401 and r.json()["reason"] == "untrusted_proxy"


def test_an_unbound_client_certificate_is_refused(app, access):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from gateway.signing.keys import parse_subject, self_signed_certificate

    cert = self_signed_certificate(ec.generate_private_key(ec.SECP256R1()), parse_subject("CN=stranger"), days=30,
                                   now=access.clock.now())
    pem = quote(cert.public_bytes(serialization.Encoding.PEM).decode())
    with app.test_client(client=("10.1.2.3", 4431)) as c:
        r = c.get("/v1/access/whoami", headers={"X-Client-Cert": pem})
    assert r.status_code == 401 and r.json()["reason"] == "certificate_unknown"


def test_refused_credentials_are_audited_but_absent_ones_are_not(app, access):
    from gateway.access import audit

    issued = issue(access, "finance", days=1)
    expire_soon(access, issued.key_id, access.clock.now())
    with app.test_client() as c:
        c.get("/v1/access/whoami")
        c.get("/v1/access/whoami", headers=headers_for(issued))
    with access.db.read() as conn:
        rows = audit.query(conn)
    assert [(r.actor, r.status, r.outcome) for r in rows] == [(issued.key_id, 401, "unauthenticated")]
