"""The service's own exceptions: each names the job, the value and what is expected."""

from __future__ import annotations


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for a message, cut when long. An integer of thousands of digits has
    no text at all (Python's int-to-str limit), so it is described instead."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        try:
            return f"an integer of {len(str(abs(value)))} digits"
        except ValueError:
            return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 8]}… ({len(text)} characters)"


class JobError(Exception):
    """Base class for every error the SchedulerService raises on bad input.

    ``field`` names the option at fault (``"job_id"``, ``"func"``, ``"cron_expression"``,
    ...) when one is, so that a form shows the message under that field without reading
    the message's words; None when the error is about the job as a whole.
    """

    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field


class DuplicateJobError(JobError, ValueError):
    field = "job_id"

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"a job with id {job_id!r} is already registered; choose another id")


class JobNotFoundError(JobError, LookupError):
    field = "job_id"

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job with id {job_id!r} is registered")


class InvalidJobError(JobError, ValueError):
    """A job definition that cannot be used: a bad id, function, timeout or option."""


class HostUnavailableError(JobError, ConnectionError):
    """No scheduler answers on the control socket (none runs, or it is going away)."""


class ReadOnlyError(JobError, PermissionError):
    """An action asked of a client attached with ``--read-only``."""

    def __init__(self, action: str) -> None:
        super().__init__(f"attached read-only: cannot {action}; attach without --read-only")


class StandbyError(JobError, RuntimeError):
    """An action asked of a service that stands by: another process schedules from its
    state file, and acting here would act on jobs that do not fire here."""
