"""`gateway keys …`: signing keys (`keys generate`).

Built with sub-sub-commands so other key kinds (API keys: `keys issue`, `keys revoke`) can
add themselves to the same `keys` parser: call `keys_subparsers(subparsers)` to get it.
"""

from __future__ import annotations

import argparse
import sys
import weakref
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from gateway.cli import EXIT_OK, EXIT_USAGE

# keyed by the command table itself, held weakly: keyed by its id(), a freed parser's id came
# back for a new one, which then got the dead parser's `keys` table ("conflicting subparser")
_KEYS_SUBPARSERS: weakref.WeakKeyDictionary[argparse._SubParsersAction, argparse._SubParsersAction] = (
    weakref.WeakKeyDictionary())


def keys_subparsers(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `keys` command's own sub-command table (created on first use)."""
    found = _KEYS_SUBPARSERS.get(subparsers)
    if found is None:
        parser = subparsers.add_parser("keys", help="signing keys and certificates")
        found = parser.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND", required=True)
        _KEYS_SUBPARSERS[subparsers] = found
    return found


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = keys_subparsers(subparsers)
    gen = sub.add_parser(
        "generate",
        help="generate a signing key: self-signed certificate (development) or a CSR (production)",
    )
    gen.add_argument("--out", type=Path, required=True, help="directory to write into (e.g. var/keys)")
    gen.add_argument("--kind", choices=["rsa", "ec"], default="rsa", help="RSA 3072 or EC P-256 (default rsa)")
    gen.add_argument("--days", type=int, default=365, help="validity of the self-signed certificate")
    gen.add_argument("--csr", action="store_true", help="write a certificate signing request for a CA")
    gen.add_argument("--subject", default="CN=safety-credit-gateway,O=development", help='e.g. "CN=gw,O=Bureau,C=CN"')
    gen.add_argument("--name", default=None, help="file name stem (default: signing-<key id>)")
    gen.set_defaults(func=generate)


def generate(args: argparse.Namespace) -> int:
    from gateway.signing import keys

    if args.days < 1:
        print("gateway keys generate: --days must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        subject = keys.parse_subject(args.subject)
    except keys.KeyUnavailable as exc:
        print(f"gateway keys generate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    private_key = keys.generate_private_key(args.kind)
    cert = keys.self_signed_certificate(private_key, subject, days=args.days)
    key_id = keys.key_id_for(cert)
    name = args.name or f"signing-{key_id}"
    key_path, cert_path = keys.write_key_pair(args.out, name, private_key, cert)
    print(f"key id:      {key_id}")
    print(f"private key: {key_path}")
    print(f"certificate: {cert_path} (self-signed, {args.days} days, {subject.rfc4514_string()})")
    if args.csr:
        csr = keys.certificate_signing_request(private_key, subject)
        csr_path = args.out / f"{name}.csr.pem"
        csr_path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        print(f"CSR:         {csr_path} (have it signed; replace {cert_path.name} with the issued certificate)")
    return EXIT_OK
