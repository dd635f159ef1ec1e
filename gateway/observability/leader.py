"""Is a scheduler leading? (the `/readyz` check "scheduler_leader" and a metric)

On PostgreSQL the leader holds the advisory lock `(LOCK_NAMESPACE, hashtext(schema))` on a
connection of its own (`gateway.scheduler.PostgresLeadership`); `pg_locks` shows it to
every process, and `pg_stat_activity` names the holder (`gateway-scheduler <host> pid=<pid>`).
No holder means no scheduled work runs: the check fails, so a deployment without any
`gateway scheduler` (or `gateway run`) is not reported ready.

On SQLite (one machine, `gateway run`) the scheduler runs in the same process, or in one
`gateway scheduler` beside it, guarded by a flock; the check reports ok with a note.
"""

from __future__ import annotations

from typing import Any

from gateway.scheduler.leadership import NO_LEADER, leader_holder


def scheduler_leader(services: Any) -> tuple[bool, str]:
    db = services.db
    if db.is_sqlite:
        return True, "SQLite single-machine layout: one scheduler (gateway run), guarded by a file lock"
    holder = leader_holder(db)
    if holder is NO_LEADER:
        return False, "no scheduler holds the leader lock: start `gateway scheduler`"
    return True, f"leader: {holder or 'unknown process'}"
