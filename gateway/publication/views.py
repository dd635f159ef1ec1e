"""What each destination may see (按需最小化): its subscription, and an item's fields as its
sector may see them.

- `Route`: a destination's subscription as planning reads it (sector, record and item kinds,
  regions, bad-credit levels); empty sets mean "everything".
- `view_fields`: natural persons' ID numbers are masked (`idcard.mask`) for every sector but
  `agency` (docs/architecture.md "Answer": minimised to what that partner may see).
- `measures_for_route`: the joint measures a destination takes on a list (docs/policy.md §9): only
  its own sector's; agencies get every receiver's; credit platforms and safety supervision
  get lists that name no receiver measure (the bad-credit record).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.domain.identifiers import idcard
from gateway.publication.content import ItemKind

# Sectors that see everything: supervising agencies (the level above, the providing bureau).
AGENCY_SECTORS = frozenset({"agency"})
# Sectors that receive lists without receiver measures (the bad-credit record, docs/policy.md §3):
# the credit platforms publish them and safety supervision acts on them.
RECORD_SECTORS = frozenset({"platform", "safety_supervision"})
# Fields holding a natural person's ID number, masked outside AGENCY_SECTORS.
PERSON_ID_FIELDS = frozenset({"XK_FR_ZJHM", "CF_FR_ZJHM", "CF_XDR_ZJHM"})


def item_id_for(destination: str, source_key: str) -> str:
    """The stable item id of `source_key` at `destination` (fits bulletin.xsd's Identifier)."""
    return "it-" + hashlib.sha256(f"{destination}\n{source_key}".encode()).hexdigest()[:40]


def region_prefix(code: str | None) -> str:
    """A GB/T 2260 code as the prefix it covers: 510000 → 51, 510700 → 5107, 510703 → 510703."""
    text = (code or "").strip()
    while len(text) >= 2 and text.endswith("00"):
        text = text[:-2]
    return text


@dataclass(frozen=True)
class Route:
    """One destination's subscription as planning reads it; empty sets mean "everything"."""

    destination: str
    sector: str | None = None
    record_kinds: frozenset[str] = frozenset()
    item_kinds: frozenset[str] = frozenset()  # ItemKind values, or families ("penalty", "list")
    regions: tuple[str, ...] = ()  # GB/T 2260 codes or prefixes
    levels: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Any) -> Route:
        """From a `DestinationConfig` (or anything with `name` and `subscription`)."""
        sub = config.subscription
        return cls(
            destination=config.name,
            sector=sub.sector,
            record_kinds=frozenset(sub.record_kinds),
            item_kinds=frozenset(sub.item_kinds),
            regions=tuple(region_prefix(r) for r in sub.regions),
            levels=frozenset(sub.levels),
        )

    def wants_item(self, kind: ItemKind) -> bool:
        if not self.item_kinds:
            return True
        return kind.value in self.item_kinds or kind.value.split(".")[0] in self.item_kinds

    def wants_record(self, record_kind: str) -> bool:
        return not self.record_kinds or record_kind in self.record_kinds

    def wants_region(self, region: str | None) -> bool:
        if not self.regions or "" in self.regions:
            return True
        code = (region or "").strip()
        return any(code.startswith(p) for p in self.regions)

    def wants_levels(self, levels: Sequence[str]) -> bool:
        """Items without a level (双公示, lists) pass; leveled ones must meet the subscription."""
        return not self.levels or not levels or bool(self.levels.intersection(levels))

    @property
    def is_agency(self) -> bool:
        return self.sector in AGENCY_SECTORS


def view_fields(fields: Mapping[str, Any], route: Route) -> dict[str, Any]:
    """What `route`'s sector may see of an item's fields."""
    out = dict(fields)
    if not route.is_agency:
        for name in PERSON_ID_FIELDS.intersection(out):
            if out[name]:
                out[name] = idcard.mask(out[name])
    return out


def measures_for_route(list_kind: str, measures: Mapping[str, Mapping[str, Sequence[Any]]], route: Route
                       ) -> list[dict[str, str]] | None:
    """The measures `route` takes on `list_kind`, or None when the entry is not for it."""
    table = measures.get(list_kind) or {}
    if route.is_agency or route.sector is None:
        chosen = list(table)
    elif table.get(route.sector):
        chosen = [route.sector]
    elif not table and route.sector in RECORD_SECTORS:
        chosen = []
    else:
        return None
    return [
        {"receiver": receiver, "code": f"{list_kind}_{receiver}_{i}", "text": m.text_zh}
        for receiver in chosen
        for i, m in enumerate(table.get(receiver) or ())
    ]
