"""The scheduler (调度): triggers, (job, slot) runs, one leader among many processes.

- `triggers`: schedules, fire times and slots (China civil time);
- `runs`: the SQL on `scheduled_runs`;
- `leadership`: the PostgreSQL advisory lock, or a file lock on SQLite;
- `process`: `JobSpec` (what capabilities register), `Scheduler`, `tick`, `run_pending`.
"""

from gateway.scheduler.process import (
    Job,
    JobSpec,
    Scheduler,
    default_runner_id,
    resolve,
    retention_job,
    run_once,
    run_pending,
    tick,
)
from gateway.scheduler.triggers import CHINA, parse_schedule, report_due_on

__all__ = ["CHINA", "Job", "JobSpec", "Scheduler", "default_runner_id", "parse_schedule", "report_due_on", "resolve",
           "retention_job", "run_once", "run_pending", "tick"]
