"""The one wiring place: settings → database, clock, calendar, services.

Entry points (HTTP app, CLI, workers, tests) call `build()` and get a `Services` object; the
HTTP handlers reach it through `gateway.api.deps`. Tests pass their own clock or database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.clock import Clock, SystemClock
from gateway.config import Settings, get_settings
from gateway.domain.calendar import WorkingCalendar
from gateway.intake.service import IntakeService
from gateway.signing.keys import Keyring
from gateway.store.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    intake: IntakeService
    extras: dict[str, Any] = field(default_factory=dict)  # capabilities register their services here

    @property
    def keyring(self) -> Keyring:
        """The signing keyring, loaded once (loading an RSA key costs ~40 ms).

        With `generate_dev_keys` (the embedded default) an empty keys directory gets a
        self-signed development key; production deployments turn that off and install keys.
        """
        keyring = self.extras.get("keyring")
        if keyring is None:
            from gateway.signing.keys import ensure_dev_keyring, load_keyring

            if self.settings.generate_dev_keys:
                ensure_dev_keyring(self.settings.keys_dir)
            keyring = load_keyring(self.settings.keys_dir, self.settings.signing_key_id)
            self.extras["keyring"] = keyring
        return keyring

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings | None = None, *, db: Database | None = None, clock: Clock | None = None) -> Services:
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    clock = clock or SystemClock()
    calendar = WorkingCalendar.with_overrides(settings.holiday_overrides, settings.workday_overrides)
    intake = IntakeService(db, clock, calendar, settings.publication_deadline_working_days)
    services = Services(settings=settings, db=db, clock=clock, calendar=calendar, intake=intake)
    from gateway import policy_service
    from gateway.delivery import install as install_delivery
    from gateway.delivery import publication

    policy_service.install(services)  # recompute decisions when records change
    publication.install(services)  # then queue publication items; scheduler in `gateway run`
    install_delivery(services)  # destinations registry; worker in `gateway run`
    from gateway import access, console, observability

    access.install(services)  # audit middleware, retention
    observability.install(services)  # request id + latency middleware, /metrics, readiness
    console.install(services)  # /console
    return services
