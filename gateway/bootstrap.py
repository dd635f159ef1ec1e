"""The one wiring place: settings → one typed container of everything the gateway runs on.

`build()` validates everything at start (settings, the access settings, the policy profile,
the destinations file and every adapter it names, the schedules) and hands each service
exactly what it needs. Entry points (the HTTP app, the CLI, workers, tests) call it once and
keep the `Services`; there is no string-keyed bag and no install order: what a capability
needs is a constructor argument.

The change of a subject has one path (`gateway.changes`): intake, transitions and the sweep
write the feed; the consumer runs `SubjectPipeline` (the policy step, then the publication
step) for each changed subject.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from gateway.access.jobs import jobs as access_jobs
from gateway.access.ratelimit import RateLimiter
from gateway.access.settings import AccessSettings, load_access_settings
from gateway.calendars import repository as calendar_repo
from gateway.changes.consumer import Consumer, ConsumerSettings
from gateway.clock import Clock, clock_from_settings
from gateway.config import ConfigError, Settings, get_settings
from gateway.delivery.destinations import DestinationRegistry, load_destinations
from gateway.delivery.jobs import jobs as delivery_jobs
from gateway.domain.calendar import WorkingCalendar
from gateway.domain.policy.profile import Profile, ProfileError
from gateway.intake.service import IntakeService
from gateway.policy.jobs import jobs as policy_jobs
from gateway.policy.profiles import load_profile
from gateway.policy.service import PolicyService
from gateway.policy.step import PolicyOutcome, PolicyStep
from gateway.publication import repository as publication_repo
from gateway.publication.jobs import jobs as publication_jobs
from gateway.publication.service import PublicationService, PublicationStep
from gateway.scheduler import JobSpec, resolve, retention_job
from gateway.signing.keys import Keyring, ensure_dev_keyring, load_keyring
from gateway.store.db import Database
from gateway.store.sql import Deferred
from gateway.subjects import Snapshot
from gateway.watchlists.dispatch import WatchDispatcher
from gateway.watchlists.jobs import jobs as watch_jobs
from gateway.watchlists.service import WatchlistService
from gateway.watchlists.step import WatchStep


@dataclass
class SubjectResult:
    """What the consumer's pipeline decided for one subject."""

    policy: PolicyOutcome
    items: int
    notices: int = 0


@dataclass
class SubjectPipeline:
    """The consumer's work for one subject: the policy step, then the publication step and the
    watch step (both read the standing the policy step stored, in the same transaction)."""

    policy: PolicyStep
    publication: PublicationStep
    watch: WatchStep = field(default_factory=WatchStep)

    def preload(self, conn: Connection, snapshots: dict[int, Snapshot]) -> tuple[Any, Any, Any]:
        return (self.policy.preload(conn, snapshots), self.publication.preload(conn, snapshots),
                self.watch.preload(conn, snapshots))

    def apply(self, conn: Connection, snapshot: Snapshot, as_of: dt.date, now: dt.datetime,
              preloaded: tuple[Any, Any, Any], writes: Deferred | None = None) -> SubjectResult:
        outcome = self.policy.apply(conn, snapshot, as_of, now, preloaded[0], writes)
        items = self.publication.apply(conn, snapshot, outcome, as_of, now, preloaded[1], writes)
        notices = self.watch.apply(conn, snapshot, preloaded[0]["standings"].get(snapshot.subject_id),
                                   outcome.standing.body(), outcome.standing.restricted, outcome.version, now,
                                   preloaded[2], writes)
        return SubjectResult(outcome, items, notices)


class KeyringHolder:
    """The signing keyring, loaded once when first needed (loading an RSA key costs ~40 ms;
    many commands never sign). With `generate_dev_keys` (the embedded default) an empty keys
    directory gets a self-signed development key; production turns that off."""

    def __init__(self, keys_dir: Path, active_key_id: str | None, generate: bool, keyring: Keyring | None = None):
        self.keys_dir, self.active_key_id, self.generate = keys_dir, active_key_id, generate
        self._keyring = keyring
        self._lock = threading.Lock()

    def get(self) -> Keyring:
        if self._keyring is None:
            with self._lock:
                if self._keyring is None:
                    if self.generate:
                        ensure_dev_keyring(self.keys_dir)
                    self._keyring = load_keyring(self.keys_dir, self.active_key_id)
        return self._keyring


@dataclass
class Services:
    settings: Settings
    access: AccessSettings
    db: Database
    clock: Clock
    calendar: WorkingCalendar
    profile: Profile
    destinations: DestinationRegistry
    keys: KeyringHolder
    intake: IntakeService
    consumer: Consumer
    policy: PolicyService
    publication: PublicationService
    rate_limiter: RateLimiter
    watchlists: WatchlistService
    watch_dispatcher: WatchDispatcher
    job_specs: list[JobSpec] = field(default_factory=list)
    audit_checkpoints: Any = None  # gateway.access.checkpoints.Checkpointer (signed audit heads outside the database)
    audit_ids: Any = None  # gateway.access.idmask.IdProtector (ID numbers masked + keyed hash in the audit log)

    @property
    def keyring(self) -> Keyring:
        return self.keys.get()

    def jobs(self) -> list[Any]:
        """The scheduler's jobs, their triggers resolved (deployment overrides applied)."""
        return resolve(self.job_specs, self.settings.schedules)

    def close(self) -> None:
        self.db.dispose()


def audit_checkpointer(settings: Settings, access: AccessSettings, keys: KeyringHolder) -> Any:
    from gateway.access.checkpoints import Checkpointer

    path = access.audit_checkpoint_file or settings.keys_dir.parent / "audit-checkpoints.jsonl"
    return Checkpointer(path, lambda: keys.get().active, access.audit_checkpoint_every, access.audit_checkpoint_minutes)


def audit_id_protector(settings: Settings, access: AccessSettings) -> Any:
    from gateway.access.idmask import IdProtector

    return IdProtector(access.audit_id_secret, settings.keys_dir)


def build(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    destinations: DestinationRegistry | None = None,
    keyring: Keyring | None = None,
    access: AccessSettings | None = None,
    consumer_settings: ConsumerSettings | None = None,
) -> Services:
    """Every dependency, validated; tests and tools pass their own database, clock, destinations,
    keyring or access settings."""
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    clock = clock or clock_from_settings(settings)
    access = access or load_access_settings()
    with db.read() as conn:  # the official notices operators loaded (rule 11)
        notices = calendar_repo.load_notices(conn)
    calendar = WorkingCalendar.with_overrides(settings.holiday_overrides, settings.workday_overrides, notices)
    try:
        profile = load_profile(settings.policy_profile)
    except ProfileError as exc:
        raise ConfigError(f"GATEWAY_POLICY_PROFILE: {exc}") from None
    if destinations is None:
        destinations = load_destinations(keys_dir=settings.keys_dir)
    elif destinations.keys_dir is None:
        destinations.keys_dir = settings.keys_dir
    if destinations.report_to and destinations.report_to not in destinations:
        raise ConfigError(f"{destinations.source}: report_to: {destinations.report_to!r} is not a destination")
    keys = KeyringHolder(settings.keys_dir, settings.signing_key_id, settings.generate_dev_keys, keyring)
    publication = PublicationService(db, clock, calendar, profile, destinations, settings.issuer_uscc,
                                     lambda: keys.get().active, destinations.report_to)
    pipeline = SubjectPipeline(
        PolicyStep(profile, calendar, settings.argument_window_days),
        PublicationStep(publication.routes(), profile),
    )
    consumer = Consumer(db, clock, pipeline, consumer_settings or ConsumerSettings(
        batch_size=settings.change_feed_batch_size, lease_seconds=settings.change_feed_lease_seconds,
        max_attempts=settings.change_feed_max_attempts))
    policy = PolicyService(db, clock, calendar, profile, settings.argument_window_days,
                           lambda ids, as_of: consumer.decide_now(ids, as_of=as_of),
                           overdue=publication_repo.overdue_publications)
    services = Services(
        settings=settings, access=access, db=db, clock=clock, calendar=calendar, profile=profile,
        destinations=destinations, keys=keys,
        intake=IntakeService(db, clock, calendar, settings.publication_deadline_working_days, profile),
        consumer=consumer, policy=policy, publication=publication,
        rate_limiter=RateLimiter(access.rate_limits, access.rate_burst_seconds),
        watchlists=WatchlistService(db, clock, destinations, settings.watchlist_max_subjects),
        watch_dispatcher=WatchDispatcher(db, clock, settings.issuer_uscc, profile.name, lambda: keys.get().active),
    )
    services.audit_checkpoints = audit_checkpointer(settings, access, keys)
    services.audit_ids = audit_id_protector(settings, access)
    services.job_specs = [
        *policy_jobs(policy),
        *publication_jobs(publication),
        *delivery_jobs(db, clock, destinations),
        *access_jobs(db, clock, access, services.audit_checkpoints),
        *watch_jobs(services.watch_dispatcher),
        retention_job(db),
    ]
    try:
        services.jobs()
    except ValueError as exc:
        raise ConfigError(f"GATEWAY_SCHEDULES: {exc}") from None
    return services
