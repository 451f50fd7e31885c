"""Plain records for tests, from the flat keywords the tests have always written: a stored
row (``stored_job``) and a snapshot (``snapshot``), with the options named one by one
(``timeout_seconds=3.0``) instead of as a ``JobOptions``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jobs.core import job_options
from jobs.core.job_options import JobOptions
from jobs.core.records import JobSnapshot, JobSource, JobState
from jobs.core.state_store import StoredJob


def _options(values: dict[str, Any]) -> JobOptions:
    return JobOptions(**{name: values.pop(name) for name in job_options.NAMES if name in values})


def stored_job(job_id: str, **changes: Any) -> StoredJob:
    """A registry job's row in UTC, hourly, unless ``changes`` say otherwise;
    ``code_timeout_seconds`` is the registry's own timeout (None unless given)."""
    values: dict[str, Any] = {
        "func_ref": "tests.jobfuncs:ok",
        "cron_expression": "0 * * * *",
        "code_cron_expression": "0 * * * *",
        "timezone": "UTC",
        "source": JobSource.REGISTRY,
    }
    values.update(changes)
    code_timeout = values.pop("code_timeout_seconds", None)
    options = _options(values)
    source = JobSource(values.pop("source"))
    code = replace(options, timeout_seconds=code_timeout) if source is JobSource.REGISTRY else None
    return StoredJob(job_id=job_id, source=source, options=options, code_options=code, **values)


def snapshot(job_id: str, **changes: Any) -> JobSnapshot:
    """A scheduled job's snapshot in UTC, every minute, unless ``changes`` say otherwise
    (``description`` is the one given)."""
    values: dict[str, Any] = {
        "func_ref": "m:f",
        "cron_expression": "* * * * *",
        "timezone": "UTC",
        "state": JobState.SCHEDULED,
    }
    values.update(changes)
    return JobSnapshot(job_id=job_id, options=_options(values), **values)
