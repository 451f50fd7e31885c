"""The service's own exceptions: each names the job, the value and what is expected."""

from __future__ import annotations


class JobError(Exception):
    """Base class for every error the SchedulerService raises on bad input."""


class DuplicateJobError(JobError, ValueError):
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"a job with id {job_id!r} is already registered; choose another id")


class JobNotFoundError(JobError, LookupError):
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job with id {job_id!r} is registered")


class InvalidJobError(JobError, ValueError):
    """A job definition that cannot be used: a bad id, function, timeout or option."""


class SchedulerNotRunningError(JobError, RuntimeError):
    pass
