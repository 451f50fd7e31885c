"""The jobs in memory: ``LiveJob``, the service's mutable view of each job, how one is
built from its options (checked by ``job_options.py``) and what it becomes in the store.

Snapshots (``JobSnapshot``) are taken from these; nothing outside the service holds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from jobs.core import cron, funcs, job_options
from jobs.core.errors import InvalidJobError
from jobs.core.records import JobSource, LastRun
from jobs.core.state_store import StoredJob


@dataclass(slots=True, eq=False)
class LiveJob:
    """A job as the service holds it: its options, its state and its counts.

    ``source`` says where it was defined (``JobSource``: the registry, or the console);
    ``code_cron`` and ``code_timeout`` are the
    registry's own values, to tell a console edit from a change in the registry.
    """

    job_id: str
    func: Callable[..., Any] | None
    func_ref: str
    schedule: cron.CronSchedule
    tz: ZoneInfo
    enabled: bool = True
    paused: bool = False
    timeout_seconds: float | None = None
    description: str | None = None
    source: str = JobSource.CONSOLE
    code_cron: str | None = None
    code_timeout: float | None = None
    transient: bool = False
    isolation: str | None = None
    error: str | None = None
    run_count: int = 0
    failure_count: int = 0
    last: LastRun | None = None

    @property
    def schedulable(self) -> bool:
        return self.enabled and self.error is None and self.func is not None

    @property
    def cron_expression(self) -> str:
        return self.schedule.expression


def build(
    job_id: str,
    func: Callable[..., Any] | str,
    cron_expression: str,
    default_tz: ZoneInfo,
    *,
    timezone: str | None = None,
    **options: Any,
) -> LiveJob:
    """A job from its options, every one checked first (InvalidJobError, CronError,
    TimezoneError name the one at fault); ``options`` are ``job_options.PLAIN``'s."""
    job_options.check_job_id(job_id)
    if isinstance(func, str):
        ref = func.strip()
        func_obj: Callable[..., Any] = funcs.resolve(ref)
        ref = funcs.reference_of(func_obj) or ref
    else:
        funcs.check_callable(func, job_id)
        func_obj = func
        ref = funcs.reference_of(func) or funcs.display_name(func)
    funcs.check_callable(func_obj, job_id)
    schedule = cron.parse(cron_expression)
    tz = cron.zone(timezone) if timezone else default_tz
    plain = job_options.check_plain(job_id, options)
    transient = funcs.reference_of(func_obj) is None
    if plain["isolation"] == "process" and transient:
        raise InvalidJobError(
            f"job {job_id!r}: isolation='process' needs a module-level function that a "
            f"child process can import; {ref} is not one"
        )
    return LiveJob(
        job_id=job_id,
        func=func_obj,
        func_ref=ref,
        schedule=schedule,
        tz=tz,
        transient=transient,
        **plain,
    )


def from_row(row: StoredJob, default_tz: ZoneInfo) -> LiveJob:
    """A console job registered again from its row; one that cannot be (its function no
    longer imports, say) is shown in the error state with the reason, never dropped."""
    try:
        job = build(
            row.job_id,
            row.func_ref,
            row.cron_expression,
            default_tz,
            timezone=row.timezone,
            **{name: getattr(row, name) for name in job_options.PLAIN_NAMES},
        )
    except Exception as exc:
        try:
            schedule = cron.parse(row.cron_expression)
        except cron.CronError:
            schedule = cron.parse("@yearly")
        try:
            tz = cron.zone(row.timezone)
        except cron.TimezoneError:
            tz = default_tz
        job = LiveJob(
            job_id=row.job_id,
            func=None,
            func_ref=row.func_ref,
            schedule=schedule,
            tz=tz,
            enabled=row.enabled,
            description=row.description,
            error=f"cannot be restored: {exc}",
        )
    job.source = JobSource.CONSOLE
    job.paused = row.paused
    return job


def row_of(job: LiveJob, *, removed: bool = False) -> StoredJob:
    """What the store keeps of ``job``."""
    return StoredJob(
        job_id=job.job_id,
        func_ref=job.func_ref,
        cron_expression=job.schedule.expression,
        code_cron_expression=job.code_cron,
        timezone=job.tz.key,
        source=job.source,
        paused=job.paused,
        removed=removed,
        code_timeout_seconds=job.code_timeout,
        **dict(zip(job_options.PLAIN_NAMES, _plain_of(job), strict=True)),
    )


_plain_of = attrgetter(*job_options.PLAIN_NAMES)
