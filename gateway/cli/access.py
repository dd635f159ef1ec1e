"""`gateway partners add|list|revoke` and `gateway keys issue|list|revoke|rotate|bind-cert`.

API keys are shown once, when issued or rotated; the gateway keeps only their SHA-256.
Every command that changes access is an operator action and lands in the audit log in the
same transaction as the change (actor: the `--operator-key`'s key id, else `os:<user>`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.cli._common import actor_of, add_config_option, audited, services_from
from gateway.cli.keys import keys_subparsers


def register(subparsers: argparse._SubParsersAction) -> None:
    from gateway.access.keys import SCOPES, SECTORS

    partners = subparsers.add_parser("partners", help="partner organisations that query the gateway")
    psub = partners.add_subparsers(dest="partners_command", metavar="PARTNERS_COMMAND", required=True)
    add = psub.add_parser("add", help="register a partner (its USCC, name and sector)")
    add.add_argument("uscc")
    add.add_argument("name")
    add.add_argument("--sector", required=True, choices=SECTORS)
    add.add_argument("--agency", help="sector agency: the source agency code it writes for")
    add.add_argument("--rate", type=int, help="requests per second (default: the sector's)")
    add_config_option(add)
    audited(add, "partners add", records_itself=True)
    add.set_defaults(func=_partners_add)
    ls = psub.add_parser("list", help="list partners")
    add_config_option(ls)
    ls.set_defaults(func=_partners_list)
    rv = psub.add_parser("revoke", help="revoke a partner and every credential it holds")
    rv.add_argument("uscc")
    add_config_option(rv)
    audited(rv, "partners revoke", records_itself=True)
    rv.set_defaults(func=_partners_revoke)

    ksub = keys_subparsers(subparsers)
    issue = ksub.add_parser("issue", help="issue an API key to a partner (shown once)")
    issue.add_argument("partner", help="the partner's USCC")
    issue.add_argument("--scope", action="append", choices=sorted(SCOPES),
                       help="repeat for several; default: every scope the sector may hold")
    issue.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    issue.add_argument("--label")
    add_config_option(issue)
    audited(issue, "keys issue", records_itself=True)
    issue.set_defaults(func=_keys_issue)
    kls = ksub.add_parser("list", help="list API keys and bound certificates (never the secrets)")
    kls.add_argument("--partner")
    add_config_option(kls)
    kls.set_defaults(func=_keys_list)
    krv = ksub.add_parser("revoke", help="revoke an API key or a bound certificate at once")
    krv.add_argument("key_id")
    add_config_option(krv)
    audited(krv, "keys revoke", records_itself=True)
    krv.set_defaults(func=_keys_revoke)
    rot = ksub.add_parser("rotate", help="issue a successor; the old key keeps working for the overlap")
    rot.add_argument("key_id")
    rot.add_argument("--overlap-hours", type=float, default=72.0)
    rot.add_argument("--days", type=int, default=365)
    add_config_option(rot)
    audited(rot, "keys rotate", records_itself=True)
    rot.set_defaults(func=_keys_rotate)
    bind = ksub.add_parser("bind-cert", help="map a client certificate (mTLS via the proxy) to a partner")
    bind.add_argument("partner")
    bind.add_argument("certificate", type=Path, help="the client's certificate (PEM)")
    bind.add_argument("--scope", action="append", choices=sorted(SCOPES))
    add_config_option(bind)
    audited(bind, "keys bind-cert", records_itself=True)
    bind.set_defaults(func=_keys_bind)


def _audit(conn, svc, action: str, outcome: str = "ok", *, args: argparse.Namespace, **detail) -> None:  # noqa: ANN001
    """The operator action's entry, in the same transaction as the change (actor: the
    `--operator-key`'s key id, else `os:<user>`)."""
    from gateway.access.audit import AuditEntry, append

    subject = detail.pop("subject", None)
    detail["via"] = "cli"
    append(conn, [AuditEntry(actor=actor_of(args), action=action, outcome=outcome, sector="operator",
                             organisation=subject if subject and len(subject) == 18 else None,
                             subject=subject, detail=detail)], svc.clock.now(), svc.audit_ids)


def _fail(command: str, exc: Exception) -> int:
    print(f"gateway {command}: {exc}", file=sys.stderr)
    return EXIT_USAGE


def _partners_add(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    try:
        with svc.db.write() as conn:
            keys.add_partner(conn, uscc_code=args.uscc, name=args.name, sector=args.sector, now=svc.clock.now(),
                             agency_code=args.agency, rate_per_second=args.rate)
            _audit(conn, svc, args=args, action="partners add", subject=args.uscc.strip().upper(), sector_of_partner=args.sector,
                   agency=args.agency)
    except keys.AccessError as exc:
        return _fail("partners add", exc)
    print(f"partner {args.uscc} ({args.sector}) registered; issue a key with: gateway keys issue {args.uscc}")
    return EXIT_OK


def _partners_list(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    with svc.db.read() as conn:
        for p in keys.list_partners(conn):
            print(f"{p.uscc}\t{p.sector}\t{p.status}\t{p.agency_code or '-'}\t{p.name}")
    return EXIT_OK


def _partners_revoke(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    try:
        with svc.db.write() as conn:
            n = keys.revoke_partner(conn, args.uscc, svc.clock.now())
            _audit(conn, svc, args=args, action="partners revoke", subject=args.uscc.strip().upper(), credentials_revoked=n)
    except keys.AccessError as exc:
        return _fail("partners revoke", exc)
    print(f"partner {args.uscc} revoked; {n} credential(s) revoked")
    return EXIT_OK


def _keys_issue(args: argparse.Namespace) -> int:
    from gateway.access import keys

    if args.days < 1:
        return _fail("keys issue", ValueError("--days must be at least 1"))
    svc = services_from(args)
    try:
        with svc.db.write() as conn:
            issued = keys.issue_key(conn, partner_uscc=args.partner, now=svc.clock.now(), days=args.days,
                                    scopes=args.scope, label=args.label)
            _audit(conn, svc, args=args, action="keys issue", subject=args.partner.strip().upper(), key_id=issued.key_id,
                   scopes=list(issued.scopes), expires_at=issued.expires_at.isoformat())
    except keys.AccessError as exc:
        return _fail("keys issue", exc)
    print(f"key id:  {issued.key_id}")
    print(f"scopes:  {' '.join(issued.scopes)}")
    print(f"expires: {issued.expires_at.isoformat()}")
    print(f"API key (shown once, store it now): {issued.token}")
    return EXIT_OK


def _keys_list(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    now = svc.clock.now()
    with svc.db.read() as conn:
        for k in keys.list_credentials(conn, args.partner):
            state = "revoked" if k.revoked_at else ("expired" if k.expires_at <= now else "active")
            extra = f" rotated_to={k.rotated_to}" if k.rotated_to else ""
            print(f"{k.key_id}\t{k.kind}\t{k.uscc}\t{k.sector}\t{state}\t{k.expires_at.isoformat()}\t"
                  f"{' '.join(k.scopes)}{extra}")
    return EXIT_OK


def _keys_revoke(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    try:
        with svc.db.write() as conn:
            keys.revoke_key(conn, args.key_id, svc.clock.now())
            _audit(conn, svc, args=args, action="keys revoke", key_id=args.key_id)
    except keys.AccessError as exc:
        print(f"gateway keys revoke: {exc}", file=sys.stderr)
        return EXIT_FOUND_PROBLEMS
    print(f"key {args.key_id} revoked")
    return EXIT_OK


def _keys_rotate(args: argparse.Namespace) -> int:
    from gateway.access import keys

    svc = services_from(args)
    try:
        with svc.db.write() as conn:
            new = keys.rotate_key(conn, args.key_id, svc.clock.now(), overlap=dt.timedelta(hours=args.overlap_hours),
                                  days=args.days)
            _audit(conn, svc, args=args, action="keys rotate", key_id=args.key_id, successor=new.key_id,
                   overlap_hours=str(args.overlap_hours))
    except keys.AccessError as exc:
        return _fail("keys rotate", exc)
    until = svc.clock.now() + dt.timedelta(hours=args.overlap_hours)
    print(f"new key id: {new.key_id} (expires {new.expires_at.isoformat()})")
    print(f"old key {args.key_id} keeps working until {until.isoformat()} at the latest")
    print(f"API key (shown once, store it now): {new.token}")
    return EXIT_OK


def _keys_bind(args: argparse.Namespace) -> int:
    from cryptography import x509

    from gateway.access import keys
    from gateway.access.authn import fingerprint

    try:
        cert = x509.load_pem_x509_certificate(args.certificate.read_bytes())
    except (OSError, ValueError) as exc:
        return _fail("keys bind-cert", exc)
    svc = services_from(args)
    fp = fingerprint(cert)
    try:
        with svc.db.write() as conn:
            key_id = keys.bind_certificate(conn, partner_uscc=args.partner, fingerprint=fp, now=svc.clock.now(),
                                           expires_at=cert.not_valid_after_utc, scopes=args.scope,
                                           label=cert.subject.rfc4514_string()[:200])
            _audit(conn, svc, args=args, action="keys bind-cert", subject=args.partner.strip().upper(), key_id=key_id, fingerprint=fp)
    except keys.AccessError as exc:
        return _fail("keys bind-cert", exc)
    print(f"certificate {fp} bound to {args.partner} as {key_id} (until {cert.not_valid_after_utc.isoformat()})")
    return EXIT_OK
