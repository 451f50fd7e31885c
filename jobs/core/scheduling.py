"""The service's side of APScheduler: which jobs it holds and when each fires next.

APScheduler (``engine.py``) is imported only by ``begin()``, once scheduling starts, so that
what only reads jobs never pays for it. Jobs are handed over a chunk per loop iteration
(``SCHEDULE_CHUNK``), so thousands of them do not freeze the loop; every job's first run
counts from the instant scheduling began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jobs.core.live_jobs import LiveJob

if TYPE_CHECKING:
    import asyncio

    from jobs.core import engine

#: Jobs handed to APScheduler per event-loop iteration: with thousands of jobs the loop
#: (and the console) keeps answering while the rest are scheduled.
SCHEDULE_CHUNK = 250


def _scheduling_now(tz: ZoneInfo) -> datetime:
    """Now as APScheduler reads it: its own clock, never the service's injected one."""
    return datetime.now(tz)


def _dispatch_placeholder() -> None:
    """What APScheduler holds as each job's func; the service runs the real one."""


class Scheduling:
    """An AsyncIOScheduler for the service's jobs, from ``begin()`` to ``end()``."""

    def __init__(self) -> None:
        self.scheduler: engine.Scheduler | None = None
        # Jobs begin() has yet to hand over, and the task handing them over.
        self._unscheduled: dict[str, LiveJob] = {}
        self._queue: deque[LiveJob] = deque()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def begin(
        self,
        tz: ZoneInfo,
        loop: asyncio.AbstractEventLoop,
        on_due: Callable[[str, list[datetime]], None],
    ) -> datetime:
        """Make the scheduler (not started yet); returns the instant first runs count from."""
        from jobs.core import engine  # APScheduler: imported once scheduling starts

        self.scheduler = engine.Scheduler(
            timezone=tz,
            event_loop=loop,
            executors={"default": engine.Executor(on_due)},
            # Every due time reaches on_due, which coalesces them itself (see Executor).
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
        )
        return _scheduling_now(tz)

    def hand_over(self, jobs: Iterable[LiveJob], instant: datetime) -> bool:
        """Schedule the first chunk of ``jobs`` from ``instant`` and start the scheduler;
        returns whether jobs remain for ``hand_over_rest``."""
        assert self.scheduler is not None
        self._unscheduled = {job.job_id: job for job in jobs}
        self._queue = deque(self._unscheduled.values())
        self._schedule_some(instant, None)
        self.scheduler.start()
        return bool(self._queue)

    def hand_over_rest(
        self,
        loop: asyncio.AbstractEventLoop,
        instant: datetime,
        announce: Callable[[LiveJob], None],
        done: Callable[[], None],
    ) -> None:
        """The rest, a chunk per loop iteration, each job ``announce``d; then ``done``."""
        self._task = loop.create_task(
            self._schedule_rest(instant, announce, done), name="jobconsole:schedule"
        )

    def _schedule_some(self, instant: datetime, announce: Callable[[LiveJob], None] | None) -> None:
        queue = self._queue
        count = 0
        while queue and count < SCHEDULE_CHUNK:
            job = queue.popleft()
            if self._unscheduled.get(job.job_id) is not job:
                continue  # removed, replaced or resumed (so scheduled) since begin()
            count += 1
            if self.schedule(job, instant) and announce is not None:
                announce(job)  # its next run time is known now

    async def _schedule_rest(
        self, instant: datetime, announce: Callable[[LiveJob], None], done: Callable[[], None]
    ) -> None:
        import asyncio

        while self._queue:
            await asyncio.sleep(0)  # let the loop answer between chunks
            self._schedule_some(instant, announce)
        self._task = None
        self._unscheduled.clear()
        done()

    def stop_handing_over(self) -> None:
        """Stop handing jobs over (a shutdown while begin()'s chunks still go)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._unscheduled.clear()
        self._queue.clear()

    def stop(self) -> None:
        """Stop firing at once."""
        self.stop_handing_over()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def end(self) -> None:
        self.stop_handing_over()
        self.scheduler = None

    # ------------------------------------------------------------------ one job

    def holds(self, job_id: str) -> bool:
        return self.scheduler is not None and self.scheduler.get_job(job_id) is not None

    def schedule(self, job: LiveJob, instant: datetime | None = None) -> bool:
        """Hand the job over; its first run is the first fire time at or after ``instant``
        (default: now). Returns whether it was scheduled."""
        if self._unscheduled.get(job.job_id) is job:
            del self._unscheduled[job.job_id]
        if self.scheduler is None or not job.schedulable:
            return False
        from jobs.core import engine

        trigger = engine.CronTrigger(job.schedule, job.tz)
        kwargs: dict[str, Any] = {}
        if job.paused:
            kwargs["next_run_time"] = None
        elif instant is not None:
            kwargs["next_run_time"] = trigger.get_next_fire_time(None, instant)
        self.scheduler.add_job(
            _dispatch_placeholder,
            trigger=trigger,
            id=job.job_id,
            name=job.job_id,
            replace_existing=True,
            **kwargs,
        )
        return True

    def unschedule(self, job: LiveJob) -> None:
        if self._unscheduled.get(job.job_id) is job:
            del self._unscheduled[job.job_id]
        if self.holds(job.job_id):
            assert self.scheduler is not None
            self.scheduler.remove_job(job.job_id)

    def pause(self, job: LiveJob) -> None:
        if self.scheduler is not None and self.holds(job.job_id):
            self.scheduler.pause_job(job.job_id)

    def resume(self, job: LiveJob) -> None:
        if self.scheduler is not None and self.holds(job.job_id):
            self.scheduler.resume_job(job.job_id)
        else:
            self.schedule(job)

    def reschedule(self, job: LiveJob) -> None:
        if self.scheduler is not None and self.holds(job.job_id):
            from jobs.core import engine

            self.scheduler.reschedule_job(
                job.job_id, trigger=engine.CronTrigger(job.schedule, job.tz)
            )
            if job.paused:
                self.scheduler.pause_job(job.job_id)

    def next_run_time(
        self, job: LiveJob, known: Mapping[str, datetime | None] | None = None
    ) -> datetime | None:
        """``known``: every job's next run time read at once (``next_run_times``)."""
        if self.scheduler is None or not job.schedulable or job.paused:
            return None
        if known is not None:
            return known.get(job.job_id)
        ap_job = self.scheduler.get_job(job.job_id)
        return ap_job.next_run_time if ap_job is not None else None

    def next_run_times(self) -> dict[str, datetime | None]:
        """Every scheduled job's next run time, read in one pass: asking APScheduler job by
        job (a lock and a lookup each) was a third of snapshotting 10,000 jobs."""
        if self.scheduler is None:
            return {}
        return {ap_job.id: ap_job.next_run_time for ap_job in self.scheduler.get_jobs()}
