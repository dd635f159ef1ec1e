"""Access settings: `GATEWAY_`-prefixed like every other setting, read from the same YAML file.

They live beside the access capability (not in `gateway.config`) so the capability brings
its own knobs; `gateway.bootstrap.build` validates them at start (`services.access`), and a
test or an embedding passes its own `AccessSettings` to `build(access=...)`.

    GATEWAY_TRUSTED_PROXIES='["127.0.0.1"]' # peers whose X-Client-Cert header is believed (IPs or CIDRs)
    GATEWAY_AUDIT_RETENTION_DAYS=1095       # entries older are pruned (the chain stays verifiable)
    GATEWAY_RATE_LIMITS='{"finance": 20}'   # requests/second per partner, by sector
    GATEWAY_RATE_BURST_SECONDS=2            # bucket size = rate x burst seconds
    GATEWAY_KEY_CACHE_SECONDS=5             # how long a process trusts a verified key without asking the database
    GATEWAY_AUDIT_CHECKPOINT_EVERY=1000     # a signed checkpoint of the audit chain head every N entries …
    GATEWAY_AUDIT_CHECKPOINT_MINUTES=60     # … or when M minutes have passed since the last one
    GATEWAY_AUDIT_CHECKPOINT_FILE=/var/lib/gateway/audit-checkpoints.jsonl  # default: beside keys_dir (var/)
    GATEWAY_AUDIT_ID_SECRET=…               # HMAC key for ID numbers in the audit log (default: a file in keys_dir)
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.config import ConfigError, _YamlFileSource

DEFAULT_RATES = {
    "finance": 50, "insurance": 50, "land": 50, "securities": 50, "approval": 50, "trading": 50,
    "platform": 200, "agency": 100, "operator": 1000,
}


class AccessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", validate_default=True)

    trusted_proxies: list[str] = Field(default_factory=list, description="IPs/CIDRs whose X-Client-Cert is believed")
    client_cert_header: str = "X-Client-Cert"
    audit_retention_days: int = Field(default=1095, ge=1)
    rate_limits: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RATES))
    rate_burst_seconds: float = Field(default=2.0, gt=0)
    key_cache_seconds: float = Field(default=5.0, ge=0)
    default_key_days: int = Field(default=365, ge=1, le=3650)
    rotation_overlap_hours: float = Field(default=72.0, ge=0)
    max_eligibility_bidders: int = Field(default=1000, ge=1, le=10000)
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    audit_checkpoint_minutes: float = Field(default=60.0, gt=0)
    audit_checkpoint_file: Path | None = Field(default=None, description="append-only, outside the database")
    audit_id_secret: str | None = Field(default=None, description="HMAC key for ID numbers in the audit log")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    def proxy_networks(self) -> list[ipaddress._BaseNetwork]:
        return [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies]

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        path = os.environ.get("GATEWAY_CONFIG_FILE")
        return (init_settings, env_settings, _YamlFileSource(settings_cls, Path(path) if path else None), file_secret_settings)


def load_access_settings(**overrides: Any) -> AccessSettings:
    from pydantic import ValidationError

    try:
        return AccessSettings(**overrides)
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"access settings: {exc}") from None
