"""Helpers shared by the CLI modules."""

from __future__ import annotations

import argparse
import os

from gateway.bootstrap import Services, build
from gateway.config import Settings, get_settings, load_settings


class OperatorKeyRefused(Exception):
    """`--operator-key` is not a valid operator key: the command does not run (exit 2)."""


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
    """The services of this command (built once per invocation and kept on `args`)."""
    cached = getattr(args, "_services", None)
    if cached is not None:
        return cached
    settings = settings_from(args)
    services = build(settings)
    if migrate_if_embedded and settings.should_migrate_on_start:
        from gateway.store import migrate

        migrate.upgrade(services.db)
    args._services = services
    return services


def os_actor() -> str:
    """The actor of a step taken from the command line: the operating-system user, `os:<name>`."""
    import getpass

    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"os:{name}"


# --- operator actions in the audit log ----------------------------------------------------

SECRET_ARGS = frozenset({"operator_key", "database_url", "config", "passphrase"})


def audited(parser: argparse.ArgumentParser, action: str, *, records_itself: bool = False) -> None:
    """Mark a sub-command as an operator action: `gateway.cli.main` records it in the audit log
    like an API call (actor, action, outcome), and it takes `--operator-key`. A command that
    writes its own entry inside its transaction says `records_itself`."""
    parser.add_argument("--operator-key", metavar="TOKEN",
                        help="an operator API key: the audit log names its key id as the actor "
                             "(default: GATEWAY_OPERATOR_KEY, else the OS user os:<name>)")
    parser.set_defaults(audit_action=action, audit_self=records_itself)


def actor_of(args: argparse.Namespace) -> str:
    """The authenticated actor of this command: the key id of `--operator-key` (which must be a
    valid operator key, or the command is refused before it acts), else `os:<user>`."""
    cached = getattr(args, "audit_actor", None)
    if cached:
        return cached
    token = getattr(args, "operator_key", None) or os.environ.get("GATEWAY_OPERATOR_KEY")
    if not token:
        actor = os_actor()
    else:
        from gateway.access import keys

        svc = services_from(args)
        try:
            principal = keys.verify_token(svc.db, token, svc.clock.now(), 0)
        except keys.Refused as exc:
            raise OperatorKeyRefused(f"--operator-key refused: {exc}") from None
        if principal is None or not principal.is_operator:
            raise OperatorKeyRefused(f"--operator-key refused: key {principal.key_id if principal else '?'} is not an operator key")
        actor = principal.key_id
    args.audit_actor = actor
    return actor


def step_actor(args: argparse.Namespace) -> str:
    """The actor as a procedure step records it: `key:<key id>` (as the API does) or `os:<user>`."""
    actor = actor_of(args)
    return actor if actor.startswith("os:") else f"key:{actor}"


def _arguments(args: argparse.Namespace) -> dict:
    skip = SECRET_ARGS | {"func", "audit_action", "audit_self", "audit_actor", "_services"}
    return {k: (str(v) if not isinstance(v, int | float | bool | type(None) | list) else v)
            for k, v in sorted(vars(args).items()) if k not in skip and not k.endswith("_command")}


def run_audited(args: argparse.Namespace) -> int:
    """Run the command; an operator action is recorded (also when it fails) and checkpointed."""
    action = getattr(args, "audit_action", None)
    if not action:
        return int(args.func(args) or 0)
    try:
        actor = actor_of(args)
    except OperatorKeyRefused as exc:
        import sys

        print(f"gateway {args.command}: {exc}", file=sys.stderr)
        return 2
    try:
        code = int(args.func(args) or 0)
    except BaseException as exc:
        if not isinstance(exc, SystemExit | KeyboardInterrupt):
            _record(args, actor, action, "error", {"error": type(exc).__name__, "message": str(exc)[:300]})
        raise
    if getattr(args, "audit_self", False) and code == 0:
        _checkpoint(args)  # the command's own entry is in its transaction
    else:
        _record(args, actor, action, "ok" if code == 0 else f"exit-{code}", {"exit": code})
    return code


def _record(args: argparse.Namespace, actor: str, action: str, outcome: str, extra: dict) -> None:
    from gateway.access import audit

    svc = services_from(args)
    arguments = _arguments(args)
    subject = next((" ".join(map(str, v)) if isinstance(v := arguments[k], list) else str(v)
                    for k in ("uscc", "partner", "entry_id", "delivery_id", "subject") if arguments.get(k)), None)
    audit.record(svc.db, audit.AuditEntry(actor=actor, action=action, outcome=outcome, sector="operator",
                                          subject=subject[:80] if subject else None,
                                          detail={"via": "cli", "arguments": arguments, **extra}),
                 svc.clock.now(), None, svc.audit_ids)
    _checkpoint(args)


def _checkpoint(args: argparse.Namespace) -> None:
    """Operator actions are few and the ones worth erasing: each is anchored at once (a signed
    checkpoint of the head after it, not only every N entries)."""
    from gateway.access import audit

    svc = services_from(args)
    with svc.db.read() as conn:
        seq, head_hash = audit.head(conn)
    svc.audit_checkpoints.checkpoint_now(seq, head_hash, svc.clock.now())
