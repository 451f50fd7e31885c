"""The scheduling core of jobconsole: plain Python, no UI.

from jobs import SchedulerService

service = SchedulerService()
service.register_job("cleanup", "jobs.cleanup:cleanup_expired_tokens", "0 0 * * *")
service.start()   # inside a running event loop
"""

from jobs.config import CronJobConfig
from jobs.core.cron import CronError, CronSchedule, TimezoneError
from jobs.core.errors import (
    DuplicateJobError,
    InvalidJobError,
    JobError,
    JobNotFoundError,
    StandbyError,
)
from jobs.core.records import (
    EventKind,
    Execution,
    ExecutionStatus,
    JobSnapshot,
    JobState,
    SchedulerEvent,
    Trigger,
)
from jobs.core.settings import Settings, SettingsError

__all__ = [
    "CronError",
    "CronJobConfig",
    "CronSchedule",
    "DuplicateJobError",
    "EventKind",
    "Execution",
    "ExecutionStatus",
    "InvalidJobError",
    "JobError",
    "JobNotFoundError",
    "JobSnapshot",
    "JobState",
    "SchedulerEvent",
    "SchedulerService",
    "Settings",
    "SettingsError",
    "StandbyError",
    "TimezoneError",
    "Trigger",
]


def __getattr__(name: str) -> object:
    """``SchedulerService`` on first use (PEP 562): commands that only read expressions or
    history should not pay for importing APScheduler and asyncio."""
    if name == "SchedulerService":
        from jobs.core.service import SchedulerService

        return SchedulerService
    raise AttributeError(f"module 'jobs' has no attribute {name!r}")
