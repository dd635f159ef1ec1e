"""The platform side every simulator shares: verify, apply once, answer with a signed receipt.

`Receiver.accept(delivery_id, body)`:

1. verifies the bulletin (`parse_bulletin`): XML-DSig signature by the gateway's pinned
   certificate and `bulletin.xsd` — anything else is `invalid` (the HTTP simulators answer
   400, the SOAP one a Client fault);
2. de-duplicates by delivery id in the `AppliedStore`: a re-sent delivery is a `duplicate`,
   changes nothing and gets the same receipt back;
3. decides each item (accepted, or rejected by `--reject-items` or by the platform's own
   check, e.g. 信用中国's required 双公示 columns) and signs a receipt with the simulator's key.

Receipts are stored genuine; `--malformed-receipts` / `--unsigned-receipts` spoil them only
on the way out (`answer_receipt`), so turning the fault off heals re-sends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapters._sim.faults import FaultState
from adapters._sim.store import AppliedStore
from gateway import xmlsafe
from gateway.publication.bulletin import BulletinItem, BulletinRejected, parse_bulletin
from gateway.signing.dsig import DS, Trust
from gateway.signing.keys import SigningKey, ensure_dev_keyring
from gateway.signing.receipt import ItemOutcome, build_receipt

ItemCheck = Callable[[BulletinItem], tuple[str, str] | None]  # → (code, message) to reject


@dataclass(frozen=True)
class Accepted:
    outcome: str  # applied | duplicate | invalid
    receipt: bytes | None = None  # None while an asynchronous receipt is not ready
    error: str | None = None
    items: int = 0
    rejected: int = 0


def simulator_key(keys_dir: Path | str, name: str) -> SigningKey:
    """The simulator's own receipt-signing key, generated on first start (the gateway pins
    `<keys_dir>/dev-signing.cert.pem`)."""
    return ensure_dev_keyring(keys_dir, subject=f"CN={name} (simulator),O=simulators").active


def certificate_file(keys_dir: Path | str) -> Path:
    return Path(keys_dir) / "dev-signing.cert.pem"


def gateway_trust(name: str, *, trust_cert: Path | str | None = None, gateway_keys_dir: Path | str | None = None) -> Trust:
    """The gateway certificate(s) bulletins must be signed with: a PEM file, or the gateway's keyring."""
    if trust_cert:
        return Trust.from_pem(f"gateway@{name}", Path(trust_cert).read_bytes())
    if gateway_keys_dir is None:
        raise ValueError("pin the gateway: --trust-cert PEM or --gateway-keys-dir DIR")
    keyring = ensure_dev_keyring(gateway_keys_dir)
    return Trust(f"gateway@{name}", tuple(k.certificate for k in keyring))


class Receiver:
    def __init__(self, name: str, key: SigningKey, trust: Trust, store: AppliedStore, faults: FaultState, *,
                 async_receipts: bool = False, receipt_delay: float = 0.5, item_check: ItemCheck | None = None) -> None:
        self.name = name
        self.key = key
        self.trust = trust
        self.store = store
        self.faults = faults
        self.async_receipts = async_receipts
        self.receipt_delay = receipt_delay
        self.item_check = item_check
        self.stats = {"requests": 0, "applied": 0, "duplicates": 0, "invalid": 0, "unauthorised": 0,
                      "items": 0, "rejected_items": 0, "receipts_posted": 0}

    def accept(self, delivery_id: str, body: bytes, *, now: float | None = None) -> Accepted:
        self.stats["requests"] += 1
        now = time.time() if now is None else now
        if not delivery_id:
            self.stats["invalid"] += 1
            return Accepted("invalid", error="the delivery id is required")
        try:
            bulletin = parse_bulletin(body, self.trust)
        except BulletinRejected as exc:
            self.stats["invalid"] += 1
            return Accepted("invalid", error=f"bulletin refused: {exc}")
        previous = self.store.get(delivery_id)
        if previous is not None:
            self.store.apply_once(delivery_id, previous.bulletin_id, previous.items, previous.receipt, now, now)
            self.stats["duplicates"] += 1
            return Accepted("duplicate", self._ready(previous.receipt, previous.ready_at, now),
                            items=len(previous.items))
        outcomes = []
        for item in bulletin.items:
            problem = ("E_REJECTED", "rejected by the simulator (--reject-items)") if self.faults.rejects(item.item_id) \
                else (self.item_check(item) if self.item_check else None)
            outcomes.append(ItemOutcome(item.item_id, "rejected", *problem) if problem
                            else ItemOutcome(item.item_id, "accepted"))
        receipt = build_receipt(bulletin, outcomes, key=self.key, delivery_id=delivery_id, receiver=self.name,
                                receipt_id=f"r-{self.name}-{delivery_id}"[:128])
        ready_at = now + self.receipt_delay if self.async_receipts else now
        if not self.store.apply_once(delivery_id, bulletin.header.bulletin_id,
                                     [i.item_id for i in bulletin.items], receipt, now, ready_at):
            self.stats["duplicates"] += 1  # a concurrent twin won: answer with its receipt
            twin = self.store.get(delivery_id)
            return Accepted("duplicate", self._ready(twin.receipt, twin.ready_at, now), items=len(twin.items))
        rejected = sum(1 for o in outcomes if o.status == "rejected")
        self.stats["applied"] += 1
        self.stats["items"] += len(outcomes)
        self.stats["rejected_items"] += rejected
        return Accepted("applied", None if self.async_receipts else receipt, items=len(outcomes), rejected=rejected)

    def _ready(self, receipt: bytes, ready_at: float, now: float) -> bytes | None:
        return receipt if ready_at <= now else None

    def receipt_for(self, delivery_id: str, *, now: float | None = None) -> tuple[str, bytes | None]:
        """('found', receipt) | ('pending', None) | ('unknown', None)."""
        applied = self.store.get(delivery_id)
        if applied is None:
            return "unknown", None
        receipt = self._ready(applied.receipt, applied.ready_at, time.time() if now is None else now)
        return ("found", receipt) if receipt is not None else ("pending", None)

    def answer_receipt(self, receipt: bytes) -> bytes:
        """The receipt as it leaves, spoiled when a receipt fault is on."""
        faults = self.faults.faults
        if faults.malformed_receipts:
            return receipt[: max(10, len(receipt) // 3)]
        if faults.unsigned_receipts:
            root = xmlsafe.parse(receipt)
            for sig in root.findall(f"{{{DS}}}Signature"):
                root.remove(sig)
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return receipt
