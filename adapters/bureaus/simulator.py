"""A local partner receiver (a land bureau, a bank, an insurer ...): `gateway simulate bureau`.

    POST /webhook                  the signed bulletin; X-Signature checked (HMAC with
                                   --hmac-secret, or the gateway key pinned by --trust-cert)
    GET  /receipts/{delivery_id}   the receipt, when --async-receipts made the push answer 202

It verifies the bulletin (pinned gateway signature, `bulletin.xsd`), applies each delivery
id once (SQLite), and, given `--sector`, rejects list entries carrying measures for another
receiver (code E_SECTOR) — the receiving end of the same rule the adapter enforces.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters._sim.faults import FaultState
from adapters._sim.http import FaultMiddleware, stats_admin
from adapters._sim.receiver import Receiver, certificate_file
from adapters._sim.rest import RestSimulatorApp
from adapters.bureaus import webhook
from adapters.bureaus.guard import LIST_ENTRIES
from gateway.publication.bulletin import BulletinItem
from gateway.publication.content import ItemKind

PUSH_PATH = "/webhook"
RECEIPT_PREFIX = "/receipts/"


def sector_check(sectors: Iterable[str]):  # noqa: ANN201
    sectors = frozenset(sectors)

    def check(item: BulletinItem) -> tuple[str, str] | None:
        if not sectors or ItemKind(item.kind) not in LIST_ENTRIES:
            return None
        receivers = {m.get("receiver") for m in item.fields.get("measures") or []}
        foreign = receivers - sectors
        if not receivers or foreign:
            return "E_SECTOR", f"measures for {', '.join(sorted(r or '?' for r in foreign)) or 'nobody'}; " \
                               f"this receiver acts for {', '.join(sorted(sectors))}"
        return None

    return check


def build_app(receiver: Receiver, faults: FaultState, *, keys_dir, hmac_secret: str | None = None,  # noqa: ANN001
              callback_url: str | None = None,
              callback_token: str | None = None):  # noqa: ANN201
    certificates = receiver.trust.pinned

    def authenticate(method: str, path: str, headers: dict[str, str], body: bytes, delivery_id: str) -> str | None:
        try:
            webhook.verify(headers, delivery_id, body, secret=hmac_secret, certificates=certificates)
        except webhook.WebhookAuthError as exc:
            return str(exc)
        return None

    app = RestSimulatorApp(receiver, authenticate, push_path=PUSH_PATH, receipt_prefix=RECEIPT_PREFIX,
                           callback_url=callback_url, callback_token=callback_token)
    return FaultMiddleware(app, faults, admin=stats_admin(receiver, certificate_file(keys_dir)))
