"""CronJobConfig: the shape of one entry in a registry such as ``jobs/registry.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs.core.job_options import MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT, OptionKeys

__all__ = ["MAX_TIMEOUT_SECONDS", "MAX_TIMEOUT_TEXT", "CronJobConfig"]


class CronJobConfig(OptionKeys):
    """One registered job. Only ``job_id``, ``func`` and ``cron_expression`` are required.

    ``func`` is a callable or a ``"module:function"`` reference. The optional keys are the
    job's options (``OptionKeys``; what each means: ``JobOptions`` in
    ``jobs/core/job_options.py``): ``enabled: False`` lists the job as disabled without
    scheduling it; ``timezone`` overrides JOBCONSOLE_TIMEZONE for this job;
    ``timeout_seconds`` overrides JOBCONSOLE_JOB_TIMEOUT_SECONDS; ``isolation: "process"``
    runs each execution in a child process; ``description`` is shown instead of the
    expression in words.
    """

    job_id: str
    func: Callable[[], Any] | str
    cron_expression: str
