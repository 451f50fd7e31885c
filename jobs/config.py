"""CronJobConfig: the shape of one entry in a registry such as ``jobs/registry.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NotRequired, TypedDict

#: The longest timeout a job may have, one year: longer is no bound at all, and values
#: near float's end overflow what adds to them (the loop's deadline, the state file).
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600
#: How ``MAX_TIMEOUT_SECONDS`` reads in messages.
MAX_TIMEOUT_TEXT = f"{MAX_TIMEOUT_SECONDS:,} (365 days)"


class CronJobConfig(TypedDict):
    """One registered job. Only ``job_id``, ``func`` and ``cron_expression`` are required.

    ``func`` is a callable or a ``"module:function"`` reference. ``enabled: False`` lists
    the job as disabled without scheduling it. ``timezone`` overrides JOBCONSOLE_TIMEZONE
    for this job; ``timeout_seconds`` overrides JOBCONSOLE_JOB_TIMEOUT_SECONDS.
    ``isolation: "process"`` runs each execution in a child process, so that ``os._exit``,
    a crash or a runaway allocation fails that execution only (and a timeout can kill it).
    """

    job_id: str
    func: Callable[[], Any] | str
    cron_expression: str
    enabled: NotRequired[bool]
    description: NotRequired[str]
    timezone: NotRequired[str]
    timeout_seconds: NotRequired[float]
    isolation: NotRequired[str]
