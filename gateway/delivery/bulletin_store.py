"""Reads of stored bulletins: the exact signed bytes, their items, and the reference digests a
receipt must echo (kept with the bulletin since migration 0016). The outbox stores bulletins
(`outbox.enqueue_bulletin`); these are the statements that read them back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, select

from gateway.signing.dsig import ReferenceDigest, reference_digests
from gateway.store.delivery_tables import bulletin_items, bulletins
from gateway.store.sql import chunks


def signed_digest(signed: bytes) -> str:
    return hashlib.sha256(signed).hexdigest()


class SignedBulletin(NamedTuple):
    signed: bytes  # the exact bytes to send
    digests: tuple[ReferenceDigest, ...]  # what a receipt for it must echo


def encode_digests(signed: bytes) -> str | None:
    try:
        digests = reference_digests(signed)
    except Exception:  # noqa: BLE001 - not a signed document: read (and refused) when a receipt comes
        return None
    return json.dumps([[d.uri, d.digest_method, d.digest_value] for d in digests])


def digests_of(row) -> tuple[ReferenceDigest, ...]:  # noqa: ANN001 - a bulletins row
    """The reference digests of a stored bulletin: as stored, or read from its signed bytes
    (bulletins stored before migration 0016)."""
    if row.reference_digests:
        return tuple(ReferenceDigest(*d) for d in json.loads(row.reference_digests))
    return reference_digests(bytes(row.signed))


def signed_bulletins(conn: Connection, bulletin_ids: Iterable[str]) -> dict[str, SignedBulletin]:
    out: dict[str, SignedBulletin] = {}
    b = bulletins.c
    for part in chunks(sorted(set(bulletin_ids))):
        for row in conn.execute(select(b.id, b.signed, b.reference_digests).where(b.id.in_(part))):
            out[row.id] = SignedBulletin(bytes(row.signed), digests_of(row))
    return out


def get_bulletin(conn: Connection, bulletin_id: str):  # noqa: ANN201
    return conn.execute(select(bulletins).where(bulletins.c.id == bulletin_id)).first()


def items_of(conn: Connection, bulletin_id: str) -> list:
    b = bulletin_items.c
    return conn.execute(select(bulletin_items).where(b.bulletin_id == bulletin_id).order_by(b.item_id)).all()
