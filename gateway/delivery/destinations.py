"""The destination registry: which destinations exist and how each is reached, from YAML.

`GATEWAY_DESTINATIONS_FILE` (default `config/destinations.yaml`) holds a mapping
`destinations: {name: {...}}`; each entry is validated (`DestinationConfig`) and an error
names the file, the destination and the key:

    config/destinations.yaml: destination 'credit-china': retry.base: Input should be greater than 0

The adapter is a dotted path `package.module:factory`, imported with importlib when the
destination is first used and called as `factory(config)` (docs/architecture.md: the gateway never
imports an adapter by name). `subscription`, `batch` and `schedule` are read by routing,
batching and the scheduler; `retry`, `breaker`, `rate_limit`, `concurrency`, `trust` and
`receipt_timeout_seconds` by the outbox worker.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.config import ConfigError
from gateway.delivery.port import Destination
from gateway.paths import ROOT
from gateway.signing.dsig import Trust

DEFAULT_FILE = ROOT / "config" / "destinations.yaml"
ENV_FILE = "GATEWAY_DESTINATIONS_FILE"


class DestinationConfigError(ConfigError):
    """The destinations file is missing, unreadable or invalid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscription(_Model):
    """What a destination wants (read by routing): empty lists mean "everything"."""

    record_kinds: list[str] = Field(default_factory=list)
    item_kinds: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)  # GB/T 2260 prefixes
    levels: list[str] = Field(default_factory=list)
    sector: str | None = None


class RetryConfig(_Model):
    strategy: Literal["constant", "progressive"] = "progressive"
    base: float = Field(default=5.0, gt=0, description="seconds: the constant wait, or the first progressive wait")
    cap: float = Field(default=3600.0, gt=0, description="seconds: no wait is longer")
    max_attempts: int = Field(default=20, ge=1)
    max_age: float = Field(default=7 * 86400.0, gt=0, description="seconds after enqueue after which it is dead")


class BreakerConfig(_Model):
    failure_threshold: int = Field(default=5, ge=1)
    open_seconds: float = Field(default=60.0, gt=0)


class RateLimitConfig(_Model):
    per_second: float = Field(default=200.0, gt=0)
    burst: int | None = Field(default=None, ge=1, description="bucket size; default max(1, per_second)")


class BatchConfig(_Model):
    max_items: int = Field(default=500, ge=1)
    max_age_seconds: float = Field(default=60.0, gt=0)


class DestinationConfig(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    adapter: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    options: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    subscription: Subscription = Field(default_factory=Subscription)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    concurrency: int = Field(default=8, ge=1, le=1024)
    lease_seconds: float = Field(default=60.0, gt=0, description="a claimed delivery is reclaimed after this")
    batch: BatchConfig = Field(default_factory=BatchConfig)
    schedule: str | None = Field(default=None, description="cron string or interval like '30s', '5m'")
    trust: str = Field(default="dev", description="'dev' (the development keyring) or a PEM file of pinned certificates")
    suite: str | None = Field(default=None, description="rsa-sha256 | ecdsa-p256-sha256; default: both")
    receipt_timeout_seconds: float = Field(default=3600.0, gt=0)
    receipts_partner: str | None = Field(
        default=None, description="USCC of the partner (`gateway partners add`) whose credentials may post this "
        "destination's receipts to POST /v1/receipts; unset: no one may")

    @field_validator("receipts_partner")
    @classmethod
    def _valid_partner(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from gateway.domain.identifiers import IdentifierError, uscc

        try:
            return uscc.validate(value)
        except IdentifierError as exc:
            raise ValueError(f"not a valid USCC: {exc}") from None

    @field_validator("suite")
    @classmethod
    def _known_suite(cls, value: str | None) -> str | None:
        if value is not None and value not in ("rsa-sha256", "ecdsa-p256-sha256"):
            raise ValueError("suite must be rsa-sha256 or ecdsa-p256-sha256")
        return value


def destinations_file() -> Path:
    return Path(os.environ.get(ENV_FILE) or DEFAULT_FILE)


def parse_destinations(data: Any, source: str = "<destinations>") -> dict[str, DestinationConfig]:
    """Validate the loaded YAML: `{destinations: {name: {...}}}`."""
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("destinations", {}), dict):
        raise DestinationConfigError(f"{source}: expected a mapping 'destinations: {{name: {{...}}}}'")
    out: dict[str, DestinationConfig] = {}
    for name, body in (data.get("destinations") or {}).items():
        body = dict(body or {})
        if "name" in body and body["name"] != name:
            raise DestinationConfigError(f"{source}: destination {name!r}: name: differs from its key {name!r}")
        body["name"] = str(name)
        try:
            out[str(name)] = DestinationConfig(**body)
        except ValidationError as exc:
            lines = []
            for err in exc.errors(include_url=False):
                key = ".".join(str(p) for p in err["loc"]) or "(entry)"
                lines.append(f"{source}: destination {name!r}: {key}: {err['msg']}")
            raise DestinationConfigError("; ".join(lines)) from None
    return out


def load_adapter_factory(dotted: str):  # noqa: ANN201
    module_name, _, attr = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DestinationConfigError(f"adapter {dotted!r}: cannot import {module_name}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise DestinationConfigError(f"adapter {dotted!r}: {module_name} has no {attr}") from None


class DestinationRegistry:
    """The configured destinations; builds adapters lazily and caches them (one per process)."""

    def __init__(self, configs: dict[str, DestinationConfig], *, keys_dir: Path | None = None,
                 source: str = "<destinations>") -> None:
        self.configs = configs
        self.keys_dir = keys_dir
        self.source = source
        self._adapters: dict[str, Destination] = {}
        self._trust: dict[str, Trust] = {}
        self.report_to: str | None = None  # where the monthly report goes (top-level `report_to:`)

    def __contains__(self, name: object) -> bool:
        return name in self.configs

    def names(self, *, enabled_only: bool = True) -> list[str]:
        return [n for n, c in self.configs.items() if c.enabled or not enabled_only]

    def get(self, name: str) -> DestinationConfig:
        try:
            return self.configs[name]
        except KeyError:
            raise KeyError(f"unknown destination {name!r} (configured: {', '.join(self.configs) or 'none'})") from None

    def adapter(self, name: str) -> Destination:
        """The adapter instance for `name` (built on first use)."""
        if name not in self._adapters:
            config = self.get(name)
            if self.keys_dir is not None and "keys_dir" not in config.options:
                # adapters that sign (a webhook signature, the local recorder's receipts) use the
                # gateway's keyring unless their options name another
                config = config.model_copy(update={"options": {**config.options, "keys_dir": str(self.keys_dir)}})
            factory = load_adapter_factory(config.adapter)
            adapter = factory(config)
            if not isinstance(adapter, Destination):
                raise DestinationConfigError(f"{self.source}: destination {name!r}: adapter: "
                                             f"{config.adapter} did not return a Destination")
            self._adapters[name] = adapter
        return self._adapters[name]

    def trust(self, name: str) -> Trust:
        """The pinned trust receipts from `name` are verified against."""
        if name not in self._trust:
            config = self.get(name)
            suites = frozenset({config.suite}) if config.suite else None
            kw = {"suites": suites} if suites else {}
            if config.trust == "dev":
                from gateway.signing.keys import ensure_dev_keyring

                if self.keys_dir is None:
                    raise DestinationConfigError(f"{self.source}: destination {name!r}: trust: 'dev' needs keys_dir")
                keyring = ensure_dev_keyring(self.keys_dir)
                self._trust[name] = Trust(name, tuple(k.certificate for k in keyring), **kw)
            else:
                path = Path(config.trust)
                path = path if path.is_absolute() else ROOT / path
                try:
                    self._trust[name] = Trust.from_pem(name, path.read_bytes(), **kw)
                except (OSError, ValueError) as exc:
                    raise DestinationConfigError(f"{self.source}: destination {name!r}: trust: {exc}") from None
        return self._trust[name]

    def trust_certificates_pem(self, name: str) -> list[bytes]:
        from cryptography.hazmat.primitives import serialization

        trust = self.trust(name)
        return [c.public_bytes(serialization.Encoding.PEM) for c in (*trust.pinned, *trust.anchors)]

    async def aclose(self) -> None:
        adapters, self._adapters = self._adapters, {}
        for adapter in adapters.values():
            await adapter.aclose()


def load_destinations(path: Path | str | None = None, *, keys_dir: Path | None = None) -> DestinationRegistry:
    """Read and validate the destinations file (a missing file means no destinations); every
    adapter named must import (checked here, at start, not at the first push)."""
    path = Path(path) if path else destinations_file()
    if not path.exists():
        if path != DEFAULT_FILE:
            raise DestinationConfigError(f"{ENV_FILE}={path}: no such file")
        return DestinationRegistry({}, keys_dir=keys_dir, source=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DestinationConfigError(f"{path}: {exc}") from None
    registry = DestinationRegistry(parse_destinations(data, str(path)), keys_dir=keys_dir, source=str(path))
    for name in registry.names(enabled_only=False):
        load_adapter_factory(registry.get(name).adapter)
    registry.report_to = data.get("report_to") if isinstance(data, dict) else None
    return registry

