"""Signing keys and certificates: loading, key ids, the keyring, rotation, expiry warnings.

A signing key is a private key (RSA >= 2048 or EC P-256) with its X.509 certificate and an
optional chain. Keys come from PEM (`<name>.key.pem` + `<name>.cert.pem`) or PKCS#12
(`<name>.p12`, passphrase from `GATEWAY_KEY_PASSPHRASE` or the caller); loading parses the
key once (an RSA key costs ~40 ms to load), so a `Keyring` is built at start and reused.

Key id: the first 16 hex digits of SHA-256 over the certificate's DER SubjectPublicKeyInfo.
It names the key in `ds:KeyInfo/ds:KeyName`, in logs and in the evidence bundle; it stays
the same when a certificate is renewed for the same key.

Rotation without downtime: the keyring holds several keys, one active. New bulletins are
signed with the active key; the others stay in the keyring (and in partners' pins) until
their certificates expire, so receipts and re-verification of older bulletins still work.
`Keyring.expiry_warnings(now)` lists keys whose certificates end within 60 days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

EXPIRY_WARNING_DAYS = 60
DEV_KEY_NAME = "dev-signing"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyUnavailable(Exception):
    """A key or certificate cannot be loaded or does not fit (the message says which file and why)."""


def key_id_for(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's SubjectPublicKeyInfo, first 16 hex digits."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()[:16]


def suite_for(private_key: PrivateKey) -> str:
    """The XML-DSig suite a key signs with: `rsa-sha256` or `ecdsa-p256-sha256`."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 2048:
            raise KeyUnavailable(f"RSA keys must have at least 2048 bits (got {private_key.key_size})")
        return "rsa-sha256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        return "ecdsa-p256-sha256"
    raise KeyUnavailable(f"unsupported signing key type {type(private_key).__name__}; use RSA >= 2048 or EC P-256")


@dataclass(frozen=True, eq=False)
class SigningKey:
    """A loaded private key with its certificate (and chain, leaf first)."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    source: str = ""
    key_id: str = field(init=False)
    suite: str = field(init=False)

    def __post_init__(self) -> None:
        own = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        cert = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if own != cert:
            raise KeyUnavailable(f"{self.source or 'key'}: the certificate does not belong to the private key")
        object.__setattr__(self, "key_id", key_id_for(self.certificate))
        object.__setattr__(self, "suite", suite_for(self.private_key))

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def certificate_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain))


@dataclass(frozen=True)
class ExpiryWarning:
    """A certificate that ends soon (or has ended): for the health endpoint and metrics."""

    key_id: str
    subject: str
    not_after: dt.datetime
    days_left: int
    active: bool
    expired: bool


class Keyring:
    """Several signing keys, one of them active (the one new signatures use)."""

    def __init__(self, keys: Iterable[SigningKey] = (), active_key_id: str | None = None) -> None:
        self._keys: dict[str, SigningKey] = {}
        for key in keys:
            self.add(key)
        self._active: str | None = None
        if active_key_id is not None:
            self.activate(active_key_id)
        elif self._keys:
            # newest certificate wins when nothing is configured: a freshly rotated key takes over
            self._active = max(self._keys.values(), key=lambda k: k.certificate.not_valid_before_utc).key_id

    def add(self, key: SigningKey) -> None:
        self._keys[key.key_id] = key

    def activate(self, key_id: str) -> None:
        matches = [k for k in self._keys if k.startswith(key_id.lower())] if key_id else []
        if len(matches) != 1:
            known = ", ".join(sorted(self._keys)) or "none"
            raise KeyUnavailable(f"signing key {key_id!r} is not in the keyring (known: {known})")
        self._active = matches[0]

    @property
    def active(self) -> SigningKey:
        if self._active is None:
            raise KeyUnavailable("the keyring holds no signing key")
        return self._keys[self._active]

    def get(self, key_id: str) -> SigningKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyUnavailable(f"signing key {key_id!r} is not in the keyring") from None

    def __iter__(self):
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def certificates_pem(self) -> list[bytes]:
        """Every certificate in the keyring (partners pin these; evidence bundles ship them)."""
        return [k.certificate_pem() for k in self._keys.values()]

    def expiry_warnings(self, now: dt.datetime, days: int = EXPIRY_WARNING_DAYS) -> list[ExpiryWarning]:
        """Keys whose certificates end within `days` of `now` (expired ones included), soonest first."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        horizon = now + dt.timedelta(days=days)
        out = []
        for key in self._keys.values():
            if key.not_after <= horizon:
                left = key.not_after - now
                out.append(
                    ExpiryWarning(
                        key_id=key.key_id,
                        subject=key.subject,
                        not_after=key.not_after,
                        days_left=left.days,
                        active=key.key_id == self._active,
                        expired=left.total_seconds() <= 0,
                    )
                )
        return sorted(out, key=lambda w: w.not_after)


# --- loading ------------------------------------------------------------------------


def load_pem_key(key_pem: bytes, cert_pem: bytes, passphrase: bytes | None = None, source: str = "") -> SigningKey:
    if b"ENCRYPTED" not in key_pem:
        passphrase = None  # one passphrase for a directory that mixes plain and encrypted keys
    try:
        private_key = serialization.load_pem_private_key(key_pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise KeyUnavailable(f"{source or 'key'}: cannot load the private key: {exc}") from None
    try:
        certs = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise KeyUnavailable(f"{source or 'certificate'}: cannot load the certificate: {exc}") from None
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyUnavailable(f"{source}: unsupported key type {type(private_key).__name__}")
    return SigningKey(private_key, certs[0], tuple(certs[1:]), source=source)


def load_pkcs12_key(data: bytes, passphrase: bytes | None = None, source: str = "") -> SigningKey:
    try:
        bundle = pkcs12.load_pkcs12(data, passphrase)
    except ValueError as exc:
        raise KeyUnavailable(f"{source or 'PKCS#12'}: cannot load: {exc}") from None
    if bundle.key is None or bundle.cert is None:
        raise KeyUnavailable(f"{source or 'PKCS#12'}: the bundle must hold a private key and its certificate")
    if not isinstance(bundle.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyUnavailable(f"{source}: unsupported key type {type(bundle.key).__name__}")
    chain = tuple(c.certificate for c in bundle.additional_certs)
    return SigningKey(bundle.key, bundle.cert.certificate, chain, source=source)


def _passphrase(passphrase: bytes | None) -> bytes | None:
    if passphrase is not None:
        return passphrase
    env = os.environ.get("GATEWAY_KEY_PASSPHRASE")
    return env.encode() if env else None


def load_keyring(keys_dir: Path | str, active_key_id: str | None = None, passphrase: bytes | None = None) -> Keyring:
    """Load every `*.key.pem`/`*.cert.pem` pair and every `*.p12` in `keys_dir`."""
    keys_dir = Path(keys_dir)
    if not keys_dir.is_dir():
        raise KeyUnavailable(f"{keys_dir}: the keys directory does not exist")
    passphrase = _passphrase(passphrase)
    keys: list[SigningKey] = []
    for key_path in sorted(keys_dir.glob("*.key.pem")):
        cert_path = key_path.with_name(key_path.name.removesuffix(".key.pem") + ".cert.pem")
        if not cert_path.exists():
            raise KeyUnavailable(f"{key_path}: no certificate beside it (expected {cert_path.name})")
        keys.append(load_pem_key(key_path.read_bytes(), cert_path.read_bytes(), passphrase, source=str(key_path)))
    for p12_path in sorted(keys_dir.glob("*.p12")):
        keys.append(load_pkcs12_key(p12_path.read_bytes(), passphrase, source=str(p12_path)))
    if not keys:
        raise KeyUnavailable(f"{keys_dir}: no signing keys (*.key.pem + *.cert.pem, or *.p12)")
    return Keyring(keys, active_key_id)


# --- generation ---------------------------------------------------------------------


def generate_private_key(kind: str = "rsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyUnavailable(f"unknown key kind {kind!r}; use rsa or ec")


def parse_subject(text: str) -> x509.Name:
    """`CN=Gateway,O=Some Bureau,C=CN` -> x509.Name (RFC 4514 order as written)."""
    oids = {
        "CN": NameOID.COMMON_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "C": NameOID.COUNTRY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "L": NameOID.LOCALITY_NAME,
        "SERIALNUMBER": NameOID.SERIAL_NUMBER,
        "2.5.4.97": NameOID.ORGANIZATION_IDENTIFIER,
        "ORGANIZATIONIDENTIFIER": NameOID.ORGANIZATION_IDENTIFIER,
    }
    attrs = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        if not sep or name.strip().upper() not in oids or not value.strip():
            raise KeyUnavailable(f"cannot read subject part {part!r}; use e.g. CN=..,O=..,C=CN")
        attrs.append(x509.NameAttribute(oids[name.strip().upper()], value.strip()))
    if not attrs:
        raise KeyUnavailable("the subject is empty")
    return x509.Name(attrs)


def self_signed_certificate(
    private_key: PrivateKey,
    subject: x509.Name,
    days: int = 365,
    now: dt.datetime | None = None,
    issuer: tuple[PrivateKey, x509.Certificate] | None = None,
    ca: bool = False,
) -> x509.Certificate:
    """A certificate for development (self-signed) or tests (issued by `issuer`, a CA)."""
    now = now or dt.datetime.now(dt.UTC)
    issuer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (private_key, subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,  # nonRepudiation: bulletins and receipts are evidence
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(private_key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def certificate_signing_request(private_key: PrivateKey, subject: x509.Name) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )


def private_key_pem(private_key: PrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_key_pair(
    keys_dir: Path, name: str, private_key: PrivateKey, certificate: x509.Certificate, passphrase: bytes | None = None
) -> tuple[Path, Path]:
    keys_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = keys_dir / f"{name}.key.pem", keys_dir / f"{name}.cert.pem"
    _write_private(key_path, private_key_pem(private_key, passphrase))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def ensure_dev_keyring(keys_dir: Path | str, subject: str = "CN=safety-credit-gateway (development),O=dev") -> Keyring:
    """Load the keyring in `keys_dir`, first generating a self-signed RSA key there if it has none."""
    keys_dir = Path(keys_dir)
    if not any(keys_dir.glob("*.key.pem")) and not any(keys_dir.glob("*.p12")):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self_signed_certificate(private_key, parse_subject(subject), days=365)
        write_key_pair(keys_dir, DEV_KEY_NAME, private_key, cert)
    return load_keyring(keys_dir)
