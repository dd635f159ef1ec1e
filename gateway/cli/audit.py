"""`gateway audit verify|list|prune|checkpoint`: the hash-chained audit log.

`verify` walks the chain from the pruning checkpoint to the head and names every entry that
was edited, deleted or reordered, then compares the database with the signed checkpoints in
the file outside it and names truncation, rewriting, prefix deletion and a wipe (exit 1 when
anything is wrong). `checkpoint` writes a signed checkpoint of the head now.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from gateway.cli import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from gateway.cli._common import add_config_option, audited, services_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="the audit log: verify the chain, list entries, prune")
    sub = parser.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND", required=True)
    verify = sub.add_parser("verify", help="verify the hash chain (exit 0 intact, 1 broken)")
    add_config_option(verify)
    verify.set_defaults(func=_verify)
    ls = sub.add_parser("list", help="entries as JSON lines, oldest first")
    ls.add_argument("--actor")
    ls.add_argument("--organisation")
    ls.add_argument("--subject")
    ls.add_argument("--from", dest="since")
    ls.add_argument("--to", dest="until")
    ls.add_argument("--limit", type=int, default=100)
    add_config_option(ls)
    ls.set_defaults(func=_list)
    cp = sub.add_parser("checkpoint", help="write a signed checkpoint of the chain head now (outside the database)")
    cp.add_argument("--adopt-prune-mark", action="store_true",
                    help="also sign the database's current pruning mark (once, after upgrading a gateway "
                         "that pruned before checkpoints existed; verify first)")
    add_config_option(cp)
    audited(cp, "audit checkpoint")
    cp.set_defaults(func=_checkpoint)
    prune = sub.add_parser("prune", help="delete entries older than audit_retention_days (checkpoint kept)")
    prune.add_argument("--days", type=int, help="override GATEWAY_AUDIT_RETENTION_DAYS")
    add_config_option(prune)
    audited(prune, "audit prune")
    prune.set_defaults(func=_prune)


def _verify(args: argparse.Namespace) -> int:
    from gateway.access import audit

    svc = services_from(args)
    with svc.db.read() as conn:
        result = audit.verify_with_checkpoints(conn, svc.audit_checkpoints.path, certificates(svc))
    if result.ok:
        span = f"entries {result.first_seq}..{result.last_seq}" if result.checked else "no entries"
        print(f"OK: {result.checked} entries checked ({span}); {result.checkpoints} signed checkpoint(s) "
              f"in {svc.audit_checkpoints.path} agree")
        if not result.checkpoints and result.checked:
            print("  warning: no signed checkpoint yet: truncation and rewriting cannot be told apart "
                  "(run `gateway audit checkpoint`)")
        return EXIT_OK
    print(f"BROKEN: {len(result.breaks)} problem(s) in {result.checked} entries")
    for b in result.breaks:
        print(f"  entry {b.seq}: {b.kind}: {b.message}")
    return EXIT_FOUND_PROBLEMS


def certificates(svc) -> dict:  # noqa: ANN001
    """The gateway's own signing certificates by key id (the pins checkpoints are checked against)."""
    return {k.key_id: k.certificate for k in svc.keyring}


def _checkpoint(args: argparse.Namespace) -> int:
    from gateway.access import audit

    svc = services_from(args)
    with svc.db.read() as conn:
        seq, head_hash = audit.head(conn)
        facts = audit.chain_facts(conn)
    if args.adopt_prune_mark and facts.pruned_seq:
        svc.audit_checkpoints.prune_intent(facts.pruned_seq, facts.pruned_hash, svc.clock.now())
        print(f"pruning mark: entries 1..{facts.pruned_seq} adopted as pruned")
    svc.audit_checkpoints.checkpoint_now(seq, head_hash, svc.clock.now())
    print(f"checkpoint: entry {seq} {head_hash} signed into {svc.audit_checkpoints.path}")
    return EXIT_OK


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _list(args: argparse.Namespace) -> int:
    from gateway.access import audit

    try:
        since, until = _when(args.since), _when(args.until)
    except ValueError as exc:
        print(f"gateway audit list: {exc}")
        return EXIT_USAGE
    svc = services_from(args)
    with svc.db.read() as conn:
        rows = audit.query(conn, actor=args.actor, organisation=args.organisation, subject=args.subject,
                           since=since, until=until, limit=args.limit, ids=svc.audit_ids)
    for entry in audit.entries_for(rows):
        print(json.dumps(entry, ensure_ascii=False, sort_keys=True))
    return EXIT_OK


def _prune(args: argparse.Namespace) -> int:
    from gateway.access import audit
    svc = services_from(args)
    days = args.days or svc.access.audit_retention_days
    now = svc.clock.now()
    with svc.db.write() as conn:
        removed = audit.prune(conn, now - dt.timedelta(days=days), now, svc.audit_checkpoints)
    print(f"{removed} entries older than {days} days pruned; the chain stays verifiable from its checkpoint")
    return EXIT_OK
