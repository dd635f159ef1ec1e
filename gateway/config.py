"""Settings: environment variables prefixed `GATEWAY_`, optionally a YAML config file.

`GATEWAY_CONFIG_FILE=/etc/gateway.yaml` (or `--config` on the CLI) names a file whose keys
are the setting names below; environment variables override it. Everything is validated at
start, and a bad value fails with a message naming the setting, e.g.

    configuration error: GATEWAY_PORT: Input should be less than or equal to 65535 (got 70000)
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.paths import ROOT


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it."""


class _YamlFileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None:
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"GATEWAY_CONFIG_FILE={path}: {exc}") from None
            if not isinstance(loaded, dict):
                raise ConfigError(f"GATEWAY_CONFIG_FILE={path}: the file must hold a mapping of settings")
            self._data = {str(k).lower(): v for k, v in loaded.items()}

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", validate_default=True)

    # --- storage ---
    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'gateway.db'}",
        description="SQLAlchemy URL; sqlite:///path (embedded) or postgresql+psycopg://... (scale-out)",
    )
    auto_migrate: bool | None = Field(default=None, description="upgrade the schema at start; default: on SQLite only")

    # --- HTTP ---
    host: str = "127.0.0.1"
    port: int = Field(default=8480, ge=0, le=65535)
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024, description="request bodies above are refused with 413")
    watchlist_max_subjects: int = Field(default=100_000, ge=1, le=1_000_000,
                                        description="subjects one watchlist may hold (贷后监控)")
    watch_dispatch_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often the workers turn planned watch changes into notices")
    max_batch_records: int = Field(default=10_000, ge=1, le=100_000)
    cors_origins: list[str] = Field(default_factory=list, description="CORS is off unless origins are listed")
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    json_max_depth: int = Field(default=32, ge=2, le=1000, description="JSON bodies nested deeper are refused with 400")
    json_max_number_digits: int = Field(
        default=40, ge=16, le=4000, description="JSON numbers with a longer run of digits are refused with 400")

    # --- intake: reading an imported file (gateway.intake.limits) ---
    intake_max_rows: int = Field(default=100_000, ge=1, description="rows after the header, blank ones included")
    intake_max_columns: int = Field(default=1_000, ge=10, le=16_384, description="cells in one row")
    intake_max_cell_chars: int = Field(default=32_767, ge=256, le=131_072,
                                       description="characters in one cell or XLSX shared string")
    intake_xlsx_max_uncompressed_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024,
                                                    description="an XLSX workbook's parts unpacked, together")
    intake_xlsx_max_compression_ratio: float = Field(
        default=100.0, ge=10, description="unpacked / packed size of any XLSX part above 1 MiB")

    # --- policy ---
    policy_profile: str = Field(default="municipal-2021", description="a file name under policies/ (without .yaml) or a path")
    holiday_overrides: list[dt.date] = Field(default_factory=list, description="extra non-working days (years the official calendar lacks)")
    workday_overrides: list[dt.date] = Field(default_factory=list, description="extra make-up working days")
    publication_deadline_working_days: int = Field(default=7, ge=1, le=60)
    argument_window_days: int = Field(default=5, ge=1, le=60, description="告知 argument window, working days")
    clock_fixed: dt.datetime | None = Field(
        default=None, description="a rehearsal deployment: the clock starts at this instant (with its UTC offset, "
        "e.g. 2026-05-01T09:00+08:00) and moves on from there; unset: the system clock")

    # --- the change feed (every subject's standing is decided by its consumer) ---
    change_feed_batch_size: int = Field(default=200, ge=1, le=5000, description="subjects a consumer decides per transaction")
    change_feed_lease_seconds: float = Field(default=60.0, gt=0, description="a claimed change is reclaimed after this")
    change_feed_max_attempts: int = Field(default=5, ge=1, le=100, description="failures before a subject is quarantined")
    change_feed_max_age_seconds: float = Field(
        default=300.0, gt=0, description="/readyz degrades when the oldest pending change is older")

    # --- scheduling ---
    schedules: dict[str, str] = Field(
        default_factory=dict, description="job name → cron string, 'hourly'/'nightly', or an interval like '30s'")

    # --- signing ---
    issuer_uscc: str = Field(default="11510700MB12345623", description="the gateway operator's USCC, in bulletin headers")
    keys_dir: Path = Field(default=ROOT / "var" / "keys")
    signing_key_id: str | None = None
    generate_dev_keys: bool = Field(
        default=True, description="create a self-signed development key when keys_dir is empty (turn off in production)"
    )

    # --- logging ---
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    @field_validator("clock_fixed")
    @classmethod
    def _clock_with_offset(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the instant with its UTC offset, e.g. 2026-05-01T09:00+08:00")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("issuer_uscc")
    @classmethod
    def _valid_issuer(cls, value: str) -> str:
        # it is signed into every bulletin and report: a code the platforms would refuse stops the start
        from gateway.domain.identifiers import uscc

        return uscc.validate(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_migrate_on_start(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        path = os.environ.get("GATEWAY_CONFIG_FILE")
        return (init_settings, env_settings, _YamlFileSource(settings_cls, Path(path) if path else None), file_secret_settings)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate settings; raise ConfigError naming each bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            name = "GATEWAY_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("; ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
