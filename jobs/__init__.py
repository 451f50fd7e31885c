"""The scheduling core of jobconsole: plain Python, no UI.

from jobs import SchedulerService

service = SchedulerService()
service.register_job("cleanup", "jobs.cleanup:cleanup_expired_tokens", "0 0 * * *")
service.start()   # inside a running event loop
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from jobs.core.service import SchedulerService
    from jobs.core.settings import Settings, SettingsError

#: Where each public name is defined. Each is imported on first use (PEP 562): every
#: ``import jobs.core.X`` runs this file first, and a command that only reads expressions
#: or history should pay neither for APScheduler nor for the records it never makes.
_HOMES = {
    "CronError": "jobs.core.cron",
    "CronJobConfig": "jobs.config",
    "CronSchedule": "jobs.core.cron",
    "DuplicateJobError": "jobs.core.errors",
    "EventKind": "jobs.core.records",
    "Execution": "jobs.core.records",
    "ExecutionStatus": "jobs.core.records",
    "InvalidJobError": "jobs.core.errors",
    "JobError": "jobs.core.errors",
    "JobNotFoundError": "jobs.core.errors",
    "JobSnapshot": "jobs.core.records",
    "JobState": "jobs.core.records",
    "SchedulerEvent": "jobs.core.records",
    "SchedulerService": "jobs.core.service",
    "Settings": "jobs.core.settings",
    "SettingsError": "jobs.core.settings",
    "StandbyError": "jobs.core.errors",
    "TimezoneError": "jobs.core.cron",
    "Trigger": "jobs.core.records",
}

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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'jobs' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
