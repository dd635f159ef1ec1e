"""What `gateway run --demo` prints last: the "what now" block.

The demo registers three partners and issues each a key (shown once, on this screen only): the
operators' organisation (for the console and every operator command), a bank (a credit query)
and a land office (an eligibility check before a land auction). The block then gives the
console and API-docs addresses, the two partner requests as ready `curl` commands, where the
database and the logs are, and why each deliberately bad example row was refused.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

# valid codes made with `gateway uscc make 510700 1|11|12` (well-formed, registered to nobody)
OPERATOR = ("91510700000000019A", "绵阳市公共信用信息中心(演示)", "operator")
BANK = ("91510700000000115K", "绵阳市商业银行(演示)", "finance")
LAND = ("91510700000000123E", "绵阳市自然资源和规划局(演示)", "land")
LISTED = "91510705MA6A8K2LXQ"  # on the joint-punishment list once the demo's list procedure ran
CLEAN = "91510703MA6B1C9X36"   # on the incentive list


@dataclass(frozen=True)
class DemoKeys:
    operator: str
    bank: str
    land: str


def issue_keys(services: Any, days: int = 30) -> DemoKeys:
    """Register the demo's partners (once per database) and issue each a fresh key."""
    from gateway.access import keys

    now = services.clock.now()
    tokens = []
    with services.db.write() as conn:
        for code, name, sector in (OPERATOR, BANK, LAND):
            try:
                keys.get_partner(conn, code)
            except keys.AccessError:
                keys.add_partner(conn, uscc_code=code, name=name, sector=sector, now=now)
            tokens.append(keys.issue_key(conn, partner_uscc=code, now=now, days=days, label="gateway run --demo").token)
    return DemoKeys(*tokens)


def credit_command(url: str, key: str) -> str:
    return (f"curl -s -H {shlex.quote('Authorization: Bearer ' + key)} "
            f"{shlex.quote(url + '/v1/credit/' + LISTED + '?purpose=loan_application')}")


def eligibility_command(url: str, key: str) -> str:
    body = json.dumps({"purpose": "land_auction", "bidders": [LISTED, CLEAN], "reference": "绵阳土拍2026-01"},
                      ensure_ascii=False, separators=(",", ":"))
    return (f"curl -s -H {shlex.quote('Authorization: Bearer ' + key)} -H 'Content-Type: application/json' "
            f"-d {shlex.quote(body)} {shlex.quote(url + '/v1/eligibility:check')}")


def what_now(url: str, demo_keys: DemoKeys, *, database: str, log_file: str, explained: list[str],
             on_time: str) -> list[str]:
    rule = "─" * 72
    lines = [
        rule,
        "what now (the keys below are shown once: this screen only)",
        f"  console    {url}/console/",
        f"             log in with the operator key {demo_keys.operator}",
        f"             (issued for {OPERATOR[1]}, {OPERATOR[0]}, sector operator)",
        f"  API docs   {url}/docs/   (the OpenAPI document: {url}/openapi.json)",
        f"  a bank asks for the credit status of a company on the joint-punishment list ({BANK[1]}):",
        f"    {credit_command(url, demo_keys.bank)}",
        f"  a land office checks two bidders before a land auction ({LAND[1]}):",
        f"    {eligibility_command(url, demo_keys.land)}",
        f"  database   {database}",
        f"  logs       {log_file} (this screen shows warnings and errors only)",
        f"  双公示 on time: {on_time} (the examples' dates are moved so the latest decision was yesterday)",
        "  the example rows refused on purpose:",
        *[f"    {line}" for line in explained],
        "  new records sent now are decided and pushed to the demo destinations every 5 s; stop with Ctrl+C",
        rule,
    ]
    return lines


def on_time_summary(services: Any) -> str:
    from gateway.publication.repository import timeliness

    with services.db.read() as conn:
        agencies = timeliness(conn, services.clock.now())["agencies"]
    parts = [f"{a['agency']} {a['on_time_rate'] * 100:.0f} % ({a['on_time']} of "
             f"{a['on_time'] + a['late'] + a['overdue']})" for a in agencies if a["on_time_rate"] is not None]
    return ", ".join(parts) or "nothing due yet"
