"""Helpers shared by the CLI modules."""

from __future__ import annotations

import argparse
import os

from gateway.bootstrap import Services, build
from gateway.config import Settings, get_settings, load_settings


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML settings file (GATEWAY_CONFIG_FILE)")
    parser.add_argument("--database-url", metavar="URL", help="override GATEWAY_DATABASE_URL")


def settings_from(args: argparse.Namespace) -> Settings:
    if getattr(args, "config", None):
        os.environ["GATEWAY_CONFIG_FILE"] = args.config
        get_settings.cache_clear()
    overrides = {}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    return load_settings(**overrides) if overrides or getattr(args, "config", None) else get_settings()


def services_from(args: argparse.Namespace, *, migrate_if_embedded: bool = True) -> Services:
    settings = settings_from(args)
    services = build(settings)
    if migrate_if_embedded and settings.should_migrate_on_start:
        from gateway.store import migrate

        migrate.upgrade(services.db)
    return services


def os_actor() -> str:
    """The actor of a step taken from the command line: the operating-system user, `os:<name>`."""
    import getpass

    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"os:{name}"
