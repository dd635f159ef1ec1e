"""The demo's bank watchlist (贷后监控): 绵阳市商业银行 watches every subject of `examples/` and is
notified through its own webhook destination (`mianyang-bank-watch`) when one's standing
changes in what a bank may see."""

from __future__ import annotations

from typing import Any

from gateway.domain.identifiers import orgcode, uscc

WATCH_DESTINATION = "mianyang-bank-watch"


def _code(seq: int) -> str:
    body8 = f"{seq:08d}"
    first17 = "91510700" + body8 + orgcode.calc_check_digit(body8)
    return first17 + uscc.calc_check_digit(first17)


DEMO_BANK = _code(71000001)  # the demo bank's USCC (a valid code made for rehearsals)
DEMO_BANK_NAME = "绵阳市商业银行"

LAYOUT_ENTRY = ("bureau", {"name": "mianyang.bank.watch", "sectors": ("finance",)}, {
    "options": {"receiver": DEMO_BANK_NAME + "(贷后监控)", "signature": "key", "partner": DEMO_BANK},
    "subscription": {"sector": "finance", "item_kinds": ["watch"]}})


def register_watchlist(services: Any, out: Any = print) -> dict[str, Any]:
    """The demo bank (created once) and its webhook watchlist of every subject the gateway holds
    (made as the bank's own key would make it); returns the watchlist."""
    from gateway.access import keys
    from gateway.store.tables import subjects

    now = services.clock.now()
    with services.db.write() as conn:
        try:
            partner_id = keys.get_partner(conn, DEMO_BANK).id
        except keys.AccessError:
            partner_id = keys.add_partner(conn, uscc_code=DEMO_BANK, name=DEMO_BANK_NAME, sector="finance", now=now)
        codes = [k for (k,) in conn.execute(subjects.select().with_only_columns(subjects.c.key)) if len(k) == 18]
    who = keys.Principal(key_id="demo-bank", kind="development", partner_id=partner_id, organisation=DEMO_BANK,
                         name=DEMO_BANK_NAME, sector="finance", agency_code=None,
                         scopes=keys.SECTOR_SCOPES["finance"])
    made = services.watchlists.create(who, name="绵阳市商业银行 对公贷款 贷后监控", mode="webhook",
                                      destination=WATCH_DESTINATION, subjects=[(c, None) for c in codes])
    out(f"  watchlist {made['id']}: {DEMO_BANK_NAME} watches {made['subjects']} subject(s), "
        f"notified through {WATCH_DESTINATION}")
    return made


def watch_summary(services: Any) -> str:
    from gateway.delivery.reports import destination_summary
    from gateway.watchlists.repository import counts

    with services.db.read() as conn:
        c = counts(conn)
        d = destination_summary(conn, WATCH_DESTINATION) if WATCH_DESTINATION in services.destinations else None
    receipted = (f"; {d['bulletins']} notice bulletin(s) to {WATCH_DESTINATION}, "
                 f"{sum(d['receipts'].values())} receipted, {d['accepted']} change(s) accepted, "
                 f"{d['rejected']} rejected" if d else "")
    return (f"watchlists: {c['watchlists']} list(s), {c['watched']} subject(s) watched; {c['changes']} change(s) "
            f"planned, {c['in_bulletins']} sent in notices{receipted}")
