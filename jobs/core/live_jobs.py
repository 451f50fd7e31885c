"""The jobs in memory: ``LiveJob``, the service's mutable view of each job, how one is
built from its options (checked by ``job_options.py``) and what it becomes in the store.

Snapshots (``JobSnapshot``) are taken from these; nothing outside the service holds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from jobs.core import cron, funcs, job_options
from jobs.core.errors import InvalidJobError
from jobs.core.job_options import DEFAULT, JobOptions
from jobs.core.records import JobSource, LastRun
from jobs.core.state_store import StoredJob


@dataclass(slots=True, eq=False)
class LiveJob:
    """A job as the service holds it: its options, its state and its counts.

    ``source`` says where it was defined (``JobSource``: the registry, or the console);
    ``code_cron`` and ``code_options`` are the registry's own values (None for a console
    job), to tell a console edit from a change in the registry.
    """

    job_id: str
    func: Callable[..., Any] | None
    func_ref: str
    schedule: cron.CronSchedule
    tz: ZoneInfo
    options: JobOptions = DEFAULT
    paused: bool = False
    source: JobSource = JobSource.CONSOLE
    code_cron: str | None = None
    code_options: JobOptions | None = None
    transient: bool = False
    error: str | None = None
    run_count: int = 0
    failure_count: int = 0
    last: LastRun | None = None

    @property
    def schedulable(self) -> bool:
        return self.options.enabled and self.error is None and self.func is not None

    @property
    def cron_expression(self) -> str:
        return self.schedule.expression


def build(
    job_id: str,
    func: Callable[..., Any] | str,
    cron_expression: str,
    default_tz: ZoneInfo,
    **options: Any,
) -> LiveJob:
    """A job from its options, every one checked first (InvalidJobError, CronError,
    TimezoneError name the one at fault); ``options`` are ``JobOptions``' fields (the
    caller refuses other names: ``job_options.unknown_options``)."""
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
    values = job_options.checked(job_id, options)
    zone = values["timezone"]
    tz = cron.zone(zone) if zone else default_tz
    values["timezone"] = tz.key
    transient = funcs.reference_of(func_obj) is None
    if values["isolation"] == "process" and transient:
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
        options=job_options.freeze(values),
        transient=transient,
    )


def from_row(row: StoredJob, default_tz: ZoneInfo) -> LiveJob:
    """A console job registered again from its row; one that cannot be (its function no
    longer imports, say) is shown in the error state with the reason, never dropped."""
    stored = row.options
    try:
        job = build(
            row.job_id,
            row.func_ref,
            row.cron_expression,
            default_tz,
            **{name: getattr(stored, name) for name in job_options.NAMES},
        )
    except Exception as exc:
        try:
            schedule = cron.parse(row.cron_expression)
        except cron.CronError:
            schedule = cron.parse("@yearly")
        try:
            tz = cron.zone(stored.timezone or "")
        except cron.TimezoneError:
            tz = default_tz
        job = LiveJob(
            job_id=row.job_id,
            func=None,
            func_ref=row.func_ref,
            schedule=schedule,
            tz=tz,
            options=replace(stored, timezone=tz.key),
            error=f"cannot be restored: {exc}",
        )
    job.source = JobSource.CONSOLE
    job.paused = row.paused
    return job


def row_of(job: LiveJob, *, removed: bool = False) -> StoredJob:
    """What the store keeps of ``job``."""
    return StoredJob(
        job.job_id,
        job.func_ref,
        job.schedule.expression,
        job.source,
        job.options,
        job.paused,
        removed,
        job.code_cron,
        job.code_options,
    )
