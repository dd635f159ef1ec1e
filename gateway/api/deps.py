"""How connexion handlers (module-level functions) reach the wired services."""

from __future__ import annotations

from gateway.bootstrap import Services

_services: Services | None = None


def install(services: Services) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:  # pragma: no cover - wiring error
        raise RuntimeError("the API was started without services (gateway.app.create_app)")
    return _services
