"""Bulletins: build from item dicts, validate against `bulletin.xsd`, sign, parse verified.

    header = BulletinHeader(bulletin_id="b-2024-0001", sequence=17, issuer_uscc=settings.issuer_uscc,
                            created=clock.now(), profile="municipal-2021",
                            destination="credit-china", kind=BulletinKind.PUBLICATION)
    items = [BulletinItem("i-1", ItemKind.PENALTY_PUBLICATION, "91510700...", {"CF_XDR_MC": ..., ...})]
    signed = sign_bulletin(header, items, keyring.active)        # bytes, ready to send
    verified = parse_bulletin(signed, trust)                       # header + items, verified

A bulletin that does not match the schema raises `BulletinInvalid` before it is signed: that
is a bug in the gateway (never the partner's fault), and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography import x509
from lxml import etree

from gateway.publication.content import CONTENT, LEGACY_FIELD_NAMES, BulletinKind, ItemKind
from gateway.signing import xsd
from gateway.signing.dsig import ReferenceDigest, SignatureInvalid, Trust, verify_xml
from gateway.signing.keys import SigningKey
from gateway.signing.signer import sign_xml
from gateway.xmlsafe import xml_text

NS = "urn:safety-credit:bulletin:1"
VERSION = "1"
_NSMAP = {"b": NS}


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


class BulletinInvalid(Exception):
    """The gateway built a bulletin its own schema rejects (an internal error; never sent)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("bulletin does not match bulletin.xsd: " + "; ".join(problems[:5]))
        self.problems = problems


class BulletinRejected(SignatureInvalid):
    """A received bulletin failed verification or does not match the schema."""


@dataclass(frozen=True)
class BulletinHeader:
    bulletin_id: str
    sequence: int  # per destination, from 1, no gaps
    issuer_uscc: str
    created: dt.datetime
    profile: str
    destination: str
    kind: BulletinKind | str


@dataclass(frozen=True)
class BulletinItem:
    item_id: str
    kind: ItemKind | str
    subject: str  # USCC, or reg:<注册号>
    fields: Mapping[str, Any] = field(default_factory=dict)
    record_id: str | None = None


@dataclass(frozen=True)
class VerifiedBulletin:
    """Header and items read from the verified (signed) content only."""

    header: BulletinHeader
    items: tuple[BulletinItem, ...]
    signer: x509.Certificate
    key_id: str
    digests: tuple[ReferenceDigest, ...]

    @property
    def signer_subject(self) -> str:
        return self.signer.subject.rfc4514_string()


# --- writing ------------------------------------------------------------------------


def _text(value: Any, ftype: str) -> str:
    if ftype == "bool":
        if not isinstance(value, bool):
            raise TypeError("expected true or false")
        return "true" if value else "false"
    if ftype == "datetime":
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise TypeError("expected a timezone-aware datetime")
        return value.isoformat()
    if ftype == "date" and isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_text(value)


def _add_item(parent: etree._Element, item: BulletinItem, problems: list[str]) -> None:
    try:
        kind = ItemKind(item.kind)
    except ValueError:
        problems.append(f"item {item.item_id}: unknown kind {item.kind!r}")
        return
    content_name, specs = CONTENT[kind]
    attrs = {"itemId": item.item_id, "kind": kind.value, "subject": item.subject}
    if item.record_id is not None:
        attrs["record"] = item.record_id
    el = etree.SubElement(parent, q("Item"), attrs)
    content = etree.SubElement(el, q(content_name))
    known = {name for name, _ in specs}
    for name in item.fields:
        if name not in known:
            problems.append(f"item {item.item_id}: {kind.value} has no field {name!r}")
    for name, ftype in specs:
        value = item.fields.get(name)
        if value is None or value == [] or value == "":
            continue
        try:
            if ftype.startswith("list:"):
                holder = etree.SubElement(content, q(name))
                for v in [value] if isinstance(value, str) else value:
                    etree.SubElement(holder, q(ftype[5:])).text = xml_text(v)
            elif ftype == "measures":
                holder = etree.SubElement(content, q(name))
                for m in value:
                    etree.SubElement(
                        holder, q("measure"), receiver=str(m["receiver"]), code=str(m["code"])
                    ).text = xml_text(m.get("text") or "")
            else:
                etree.SubElement(content, q(name)).text = _text(value, ftype)
        except (TypeError, ValueError, KeyError) as exc:
            problems.append(f"item {item.item_id}: {name}: {exc}")


def build_bulletin(header: BulletinHeader, items: Sequence[BulletinItem]) -> etree._Element:
    """The unsigned bulletin element, valid against bulletin.xsd (else BulletinInvalid)."""
    problems: list[str] = []
    root = etree.Element(q("Bulletin"), {"version": VERSION}, nsmap=_NSMAP)
    h = etree.SubElement(root, q("Header"))
    created = header.created
    if created.tzinfo is None:
        problems.append("header: created must be timezone-aware")
        created = created.replace(tzinfo=dt.UTC)
    for tag, value in (
        ("BulletinId", header.bulletin_id),
        ("Sequence", str(header.sequence)),
        ("Issuer", header.issuer_uscc),
        ("Created", created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")),
        ("Profile", header.profile),
        ("Destination", header.destination),
        ("Kind", str(header.kind)),
    ):
        try:
            etree.SubElement(h, q(tag)).text = value
        except (TypeError, ValueError) as exc:
            problems.append(f"header: {tag}: {exc}")
    holder = etree.SubElement(root, q("Items"), count=str(len(items)))
    seen: set[str] = set()
    for item in items:
        if item.item_id in seen:
            problems.append(f"item {item.item_id}: duplicate item id")
        seen.add(item.item_id)
        _add_item(holder, item, problems)
    problems.extend(xsd.validate(xsd.BULLETIN, root))
    if problems:
        raise BulletinInvalid(problems)
    return root


def sign_bulletin(header: BulletinHeader, items: Sequence[BulletinItem], key: SigningKey) -> bytes:
    """Build, validate and sign: the bytes to send."""
    return sign_xml(build_bulletin(header, items), key)


def item_problems(header: BulletinHeader, item: BulletinItem) -> list[str]:
    """What stops `item` from being published, alone in a bulletin with `header` (empty: nothing)."""
    try:
        build_bulletin(header, [item])
    except BulletinInvalid as exc:
        return list(exc.problems)
    return []


# --- reading ------------------------------------------------------------------------


def _value(text: str, ftype: str) -> Any:
    if ftype == "date":
        return dt.date.fromisoformat(text)
    if ftype == "datetime":
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ftype == "decimal":
        return Decimal(text)
    if ftype == "int":
        return int(text)
    if ftype == "bool":
        return text.strip() in ("true", "1")
    return text


def _read_item(el: etree._Element) -> BulletinItem:
    kind = ItemKind(el.get("kind"))
    content_name, specs = CONTENT[kind]
    content = next(c for c in el if isinstance(c.tag, str))
    if content.tag != q(content_name):
        raise BulletinRejected(f"item {el.get('itemId')}: kind {kind.value} cannot hold {content.tag}")
    types = dict(specs)
    fields: dict[str, Any] = {}
    for child in content:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        name = LEGACY_FIELD_NAMES.get(name, name)
        ftype = types[name]
        if ftype.startswith("list:"):
            fields[name] = [c.text or "" for c in child if isinstance(c.tag, str)]
        elif ftype == "measures":
            fields[name] = [{"receiver": m.get("receiver"), "code": m.get("code"), "text": m.text or ""} for m in child if isinstance(m.tag, str)]
        else:
            fields[name] = _value(child.text or "", ftype)
    return BulletinItem(el.get("itemId"), kind, el.get("subject"), fields, el.get("record"))


def read_header(root: etree._Element) -> BulletinHeader:
    h = root.find(q("Header"))

    def t(tag: str) -> str:
        return h.findtext(q(tag)) or ""

    return BulletinHeader(
        bulletin_id=t("BulletinId"),
        sequence=int(t("Sequence")),
        issuer_uscc=t("Issuer"),
        created=dt.datetime.fromisoformat(t("Created").replace("Z", "+00:00")),
        profile=t("Profile"),
        destination=t("Destination"),
        kind=BulletinKind(t("Kind")),
    )


def read_items(root: etree._Element) -> tuple[BulletinItem, ...]:
    return tuple(_read_item(el) for el in root.find(q("Items")) if isinstance(el.tag, str))


def parse_bulletin(data: bytes, trust: Trust, *, now: dt.datetime | None = None) -> VerifiedBulletin:
    """Verify a signed bulletin against `trust` and read header and items from what was signed."""
    try:
        verified = verify_xml(data, trust, now=now, schema_name=xsd.BULLETIN, expected_root=q("Bulletin"))
    except SignatureInvalid as exc:
        raise BulletinRejected(str(exc)) from None
    root = verified.root
    return VerifiedBulletin(
        header=read_header(root),
        items=read_items(root),
        signer=verified.signer,
        key_id=verified.key_id,
        digests=verified.references,
    )
