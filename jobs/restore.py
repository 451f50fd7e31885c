"""How stored state merges with the jobs defined in code, and catching up missed runs.

The rules (also in the README):

- Jobs defined in code (the registry, or ``register_job`` before ``start()``) are the
  source of truth for *what* exists. A code job keeps its stored pause. A cron expression
  edited in the console is kept until the code's own expression changes; then the code
  wins and the log says so. A code job removed in the console stays removed until it is
  registered again from the console.
- A code job that code no longer defines is gone at the next start (its history stays);
  the log says so once.
- Jobs registered at run time (from the console) are stored as ``module:function``
  references and registered again at start. One whose function no longer imports is
  shown in the error state with the reason; it is neither dropped nor fatal. When code
  now defines a job of the same id, the code's job replaces it as a fresh code job (the
  stored pause and timeout were the console job's, so they do not apply), and the log
  says so.
- Executions a crash left "running" are recorded as interrupted.
- Runs that fell due while nothing was running are recorded as missed (one record per
  job, coalesced); the latest runs once at start if it is still within the misfire
  grace time. "While nothing was running" starts at the later of the last sign of life
  and the job's newest recorded execution, so a run recorded in the last seconds before
  a crash is not taken for missed and run again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobs import cron
from jobs.records import ExecutionStatus, Trigger
from jobs.state_store import StoredJob

if TYPE_CHECKING:
    from jobs.service import SchedulerService, _Job

log = logging.getLogger("jobconsole.restore")

#: How many missed fire times to count per job before just saying "more than".
MISSED_COUNT_CAP = 10_000


def stored_job(job: _Job, *, removed: bool = False, code_cron: str | None = None) -> StoredJob:
    return StoredJob(
        job_id=job.job_id,
        func_ref=job.func_ref,
        cron_expression=job.schedule.expression,
        code_cron_expression=code_cron if code_cron is not None else job.code_cron,
        timezone=job.tz.key,
        source=job.source,
        enabled=job.enabled,
        paused=job.paused,
        removed=removed,
        timeout_seconds=job.timeout_seconds,
        description=job.description,
        isolation=job.isolation,
        code_timeout_seconds=job.code_timeout,
    )


def restore(service: SchedulerService) -> list[str]:
    """Merge the store into ``service``'s jobs; returns the notices it logged."""

    store = service._store
    notices: list[str] = []
    now = service._clock()
    for execution in [] if store.read_only else store.interrupt_running(now):
        notices.append(
            f"{execution.job_id}: execution #{execution.id} was interrupted by the last shutdown"
        )
    if notices:
        # Committed before the stats and history below (and the log pane) are read.
        store.flush()
    jobs = service._jobs
    rows = store.load_jobs()
    for row in rows:
        job = jobs.get(row.job_id)
        if job is not None and row.source == "runtime":
            if not row.removed:
                notices.append(
                    f"{row.job_id}: the job registered in the console as {row.func_ref} is "
                    "replaced by the registry's job of the same id; its pause and timeout "
                    "are not kept"
                )
            continue
        if job is not None:
            if row.removed:
                del jobs[row.job_id]
                notices.append(f"{row.job_id}: removed in the console earlier; not scheduled")
                continue
            job.paused = row.paused
            if row.code_cron_expression == job.schedule.expression:
                if row.cron_expression != job.schedule.expression:
                    try:
                        job.schedule = cron.parse(row.cron_expression)
                    except cron.CronError as exc:
                        notices.append(f"{row.job_id}: stored expression ignored: {exc}")
            elif row.code_cron_expression is not None:
                notices.append(
                    f"{row.job_id}: the registry's cron expression changed from "
                    f"{row.code_cron_expression!r} to {job.schedule.expression!r}; "
                    "it replaces the one stored"
                )
            if row.code_timeout_seconds == job.timeout_seconds:
                job.timeout_seconds = row.timeout_seconds
            else:
                notices.append(
                    f"{row.job_id}: the registry's timeout changed from "
                    f"{row.code_timeout_seconds!r} to {job.timeout_seconds!r}; "
                    "it replaces the one stored"
                )
            continue
        if row.removed:
            continue
        if row.source != "runtime":
            # The registry says which jobs exist: one it no longer defines is gone.
            notices.append(f"{row.job_id}: no longer defined in code; not scheduled")
            if not store.read_only:
                store.delete_job(row.job_id)
            continue
        restored = _restore_runtime_job(service, row)
        jobs[row.job_id] = restored
    stats = store.job_stats()
    for job in jobs.values():
        stat = stats.get(job.job_id)
        if stat is not None:
            job.run_count, job.failure_count, job.last = (
                stat.run_count,
                stat.failure_count,
                stat.last,
            )
    service._stored_rows = {row.job_id: row for row in rows}
    for message in notices:
        log.warning("%s", message)
        service._pending_notices.append(message)
    return notices


def save_merged(service: SchedulerService) -> None:
    """Write back the jobs as merged, those that differ from their stored row only.

    Done by ``start()``, after the console's first frame: a first start with 10,000 jobs
    writes 10,000 rows, and a restart with nothing changed writes none.
    """
    store = service._store
    rows = service._stored_rows
    if store.read_only or rows is None:
        return
    service._stored_rows = None
    for job in service._jobs.values():
        stored = stored_job(job)
        if rows.get(job.job_id) != stored:
            store.save_job(stored)


def _restore_runtime_job(service: SchedulerService, row: StoredJob) -> _Job:
    from jobs.service import _Job

    try:
        job = service._build_job(
            row.job_id,
            row.func_ref,
            row.cron_expression,
            enabled=row.enabled,
            timezone=row.timezone,
            description=row.description,
            timeout_seconds=row.timeout_seconds,
            isolation=row.isolation,
        )
    except Exception as exc:
        try:
            schedule = cron.parse(row.cron_expression)
        except cron.CronError:
            schedule = cron.parse("@yearly")
        try:
            tz = cron.zone(row.timezone)
        except cron.TimezoneError:
            tz = service.tz
        job = _Job(
            job_id=row.job_id,
            func=None,
            func_ref=row.func_ref,
            schedule=schedule,
            tz=tz,
            enabled=row.enabled,
            description=row.description,
            error=f"cannot be restored: {exc}",
        )
    job.source = "runtime"
    job.paused = row.paused
    return job


def catch_up_missed(service: SchedulerService) -> None:
    """Record runs due while nothing ran; run the latest once if within the grace time."""
    store = service._store
    last_alive = store.last_alive()
    now = service._clock()
    store.mark_alive(now)
    if last_alive is None or last_alive >= now:
        return
    grace = service.settings.misfire_grace_seconds
    candidates = [job for job in service._jobs.values() if job.schedulable and not job.paused]
    # The sign of life is written every few seconds; a run recorded after it was not missed.
    recorded = store.latest_scheduled_times(job.job_id for job in candidates)
    seen: dict[tuple[str, str, datetime], tuple[int, datetime, datetime | None] | None] = {}
    for job in candidates:
        since = max(last_alive, recorded.get(job.job_id, last_alive))
        key = (job.schedule.normalized, job.tz.key, since)
        if key not in seen:
            seen[key] = _due_between(job, since, now)
        due = seen[key]
        if not due:
            continue
        count, latest, before_latest = due
        run_latest = (now - latest).total_seconds() <= grace
        missed = count - 1 if run_latest else count
        if missed:
            more = "or more " if count >= MISSED_COUNT_CAP else ""
            # When the latest runs now, the last run missed is the one before it.
            last_missed = (before_latest if run_latest else None) or latest
            service._record_instant(
                job,
                ExecutionStatus.MISSED,
                latest,
                f"missed {missed} {more}run(s) due while jobconsole was not running "
                f"(last due {last_missed.astimezone(job.tz):%Y-%m-%d %H:%M %Z})",
            )
        if run_latest:
            service._launch(job, latest, Trigger.SCHEDULE)
    if any(seen.values()):
        store.flush()  # so a history read right after start-up shows the missed runs


def _due_between(
    job: _Job, start: datetime, end: datetime
) -> tuple[int, datetime, datetime | None] | None:
    """How many fire times fall in (start, end], capped, the latest of them and the one
    before it (None when the latest is the only one)."""
    count = 0
    for when in job.schedule.iterate(start, job.tz):
        if when > end or count >= MISSED_COUNT_CAP:
            break
        count += 1
    if not count:
        return None
    latest = job.schedule.latest_at_or_before(end, job.tz)
    if latest is None:
        return None
    before = None
    if count > 1:
        # Fire times fall on whole minutes: the latest at or before a second earlier is
        # the one before it.
        before = job.schedule.latest_at_or_before(latest - timedelta(seconds=1), job.tz)
        if before is not None and not start < before < latest:
            before = None
    return count, latest, before
