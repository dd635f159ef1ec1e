"""A local 信用中国 (or provincial site) for rehearsals: `gateway simulate credit-china`.

It speaks the adapter's REST interface (`POST /api/v1/bulletins`, `GET
/api/v1/receipts/{delivery_id}`), checks the HMAC request signature (`auth.Verifier`:
unknown app key, stale timestamp, replayed nonce, wrong signature → 401), verifies the
bulletin (signature pinned to the gateway certificate, `bulletin.xsd`), applies each
delivery id once (SQLite), rejects 双公示 items missing a required column (`mapping`), and
answers with a receipt signed by its own key — or 202 and the receipt later, with
`--async-receipts`. Fault flags: `adapters._sim.faults`.
"""

from __future__ import annotations

from adapters._sim.faults import FaultState
from adapters._sim.http import FaultMiddleware, stats_admin
from adapters._sim.receiver import Receiver, certificate_file
from adapters._sim.rest import RestSimulatorApp
from adapters.credit_china import auth, mapping
from gateway.publication.bulletin import BulletinItem

BASE_PATH = "/api/v1"
DEFAULT_APP_KEY = "demo-app"
DEFAULT_APP_SECRET = "demo-secret-change-me"


def check_item(item: BulletinItem) -> tuple[str, str] | None:
    missing = mapping.missing_required(item)
    if missing:
        return "E_REQUIRED", "missing required 双公示 columns: " + ", ".join(missing)
    mismatch = mapping.subject_mismatch(item)
    if mismatch:
        return "E_SUBJECT", mismatch
    return None


def build_app(receiver: Receiver, faults: FaultState, *, app_secrets: dict[str, str], keys_dir,  # noqa: ANN001
              callback_url: str | None = None, callback_token: str | None = None, base_path: str = BASE_PATH):  # noqa: ANN201
    nonces = auth.NonceCache(persist=lambda key, nonce, now: receiver.store.remember_nonce(
        key, nonce, now, 2 * auth.MAX_SKEW_SECONDS))
    verifier = auth.Verifier(app_secrets, nonces)

    def authenticate(method: str, path: str, headers: dict[str, str], body: bytes, delivery_id: str) -> str | None:
        try:
            verifier.verify(method, path, headers, body)
        except auth.AuthError as exc:
            return str(exc)
        return None

    app = RestSimulatorApp(receiver, authenticate, push_path=f"{base_path}/bulletins",
                           receipt_prefix=f"{base_path}/receipts/", callback_url=callback_url,
                           callback_token=callback_token)
    return FaultMiddleware(app, faults, admin=stats_admin(receiver, certificate_file(keys_dir)))
