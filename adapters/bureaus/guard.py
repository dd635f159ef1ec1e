"""Defence in depth for partner receivers: what a bureau may be sent (docs/policy.md §9).

Routing already gives each receiver only the list entries whose measures concern its sector,
with only its own measures, and masks natural persons' ID numbers. The adapter checks the
signed bulletin once more before it leaves, and refuses the whole push (class `rejected`,
never retried: the content is wrong, not the line) when any item

- is a list entry (`list.inclusion` / `list.change`) carrying a measure for another receiver
  (a land bureau must not learn the finance measures), or no measure at all where the sector
  is not one that takes the bare record (a bank must not get the bad-credit record meant for
  the platforms and safety supervision: `routing.RECORD_SECTORS`); supervising agencies
  (`routing.AGENCY_SECTORS`) take every list with every measure;
- is of a kind the destination is not configured for (follow-ups — withdrawals, repairs,
  removals — are allowed: routing sends them only where the original went);
- shows an unmasked ID number of a natural person.

A bulletin is signed as a whole, so one bad item stops the bulletin: an operator sees the
refusal on the delivery and fixes the subscription, never a silently thinned bulletin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway import xmlsafe
from gateway.publication.bulletin import BulletinItem, read_items
from gateway.publication.content import ItemKind
from gateway.publication.views import AGENCY_SECTORS, RECORD_SECTORS

FOLLOW_UPS = frozenset({ItemKind.LIST_REMOVAL, ItemKind.LICENCE_WITHDRAWAL, ItemKind.PENALTY_WITHDRAWAL,
                        ItemKind.REPAIR})
LIST_ENTRIES = frozenset({ItemKind.LIST_INCLUSION, ItemKind.LIST_CHANGE})
PERSON_ID_FIELDS = ("XK_FR_ZJHM", "CF_FR_ZJHM", "CF_XDR_ZJHM")


@dataclass(frozen=True)
class SectorGuard:
    sectors: frozenset[str]
    item_kinds: frozenset[ItemKind] = FOLLOW_UPS

    @classmethod
    def build(cls, sectors: Iterable[str], extra_kinds: Iterable[str] = ()) -> SectorGuard:
        sectors = frozenset(s for s in sectors if s)
        if not sectors:
            raise ValueError("a bureau destination needs its sector (subscription.sector or options.sectors)")
        kinds = set(FOLLOW_UPS)
        for k in extra_kinds:
            family = k.split(".")[0]
            if family == "list":
                continue  # list entries are admitted by their measures, never by kind
            kinds.update(i for i in ItemKind if i.value == k or i.value.split(".")[0] == family)
        return cls(sectors, frozenset(kinds))

    def problem(self, item: BulletinItem) -> str | None:
        kind = ItemKind(item.kind)
        for name in PERSON_ID_FIELDS:
            value = str(item.fields.get(name) or "")
            if value and "*" not in value:
                return f"item {item.item_id}: {name} is an unmasked ID number"
        if kind in LIST_ENTRIES:
            if self.sectors & AGENCY_SECTORS:
                return None
            receivers = {m.get("receiver") for m in item.fields.get("measures") or []}
            if not receivers and self.sectors & RECORD_SECTORS:
                return None
            if not receivers:
                return f"item {item.item_id}: {kind.value} carries no measure for {self._names()}"
            foreign = sorted(r or "?" for r in receivers - self.sectors)
            if foreign:
                return f"item {item.item_id}: {kind.value} carries measures for {', '.join(foreign)}, not {self._names()}"
            return None
        if kind not in self.item_kinds:
            return f"item {item.item_id}: {kind.value} is not configured for {self._names()}"
        return None

    def problems(self, signed: bytes) -> list[str]:
        root = xmlsafe.parse(signed)
        return [p for p in (self.problem(i) for i in read_items(root)) if p]

    def _names(self) -> str:
        return "/".join(sorted(self.sectors))
