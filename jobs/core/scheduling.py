"""The service's side of APScheduler: which jobs it holds and when each fires next.

APScheduler (``engine.py``) is imported only by ``begin()``, once scheduling starts, so that
what only reads jobs never pays for it. Jobs are handed over a chunk per loop iteration
(``SCHEDULE_CHUNK``), so thousands of them do not freeze the loop; every job's first run
counts from the instant scheduling began. A chunk goes to the job store
(``job_store.py``) in one step, its jobs sharing one trigger and one first fire time per
expression and zone: 100,000 jobs hold about 34,000 distinct expressions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jobs.core.live_jobs import LiveJob

if TYPE_CHECKING:
    import asyncio

    from jobs.core import engine, job_store
    from jobs.core.first_fires import FirstFires

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
        self._store: job_store.HeapJobStore | None = None
        # Jobs begin() has yet to hand over, and the task handing them over.
        self._unscheduled: dict[str, LiveJob] = {}
        self._queue: deque[LiveJob] = deque()
        self._task: asyncio.Task[None] | None = None
        #: One trigger per expression and zone, shared by the jobs that have them.
        self._triggers: dict[tuple[str, ZoneInfo], engine.CronTrigger] = {}
        #: While begin()'s jobs are handed over: the first fire time per expression and
        #: zone, all counted from the same instant (34,000 distinct among 100,000 jobs).
        self._first_fires: FirstFires | None = None

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
        from jobs.core import engine, job_store  # APScheduler: imported once scheduling starts

        self._store = job_store.HeapJobStore()
        self.scheduler = engine.Scheduler(
            timezone=tz,
            event_loop=loop,
            jobstores={"default": self._store},
            executors={"default": engine.Executor(on_due)},
            # Every due time reaches on_due, which coalesces them itself (see Executor).
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
        )
        return _scheduling_now(tz)

    def hand_over(
        self, jobs: Iterable[LiveJob], instant: datetime, known: FirstFires | None = None
    ) -> bool:
        """Start the scheduler and schedule the first chunk of ``jobs`` from ``instant``;
        returns whether jobs remain for ``hand_over_rest``. ``known``: first fires after
        an earlier instant (the catch-up's), taken where they hold after ``instant``."""
        assert self.scheduler is not None
        from jobs.core.first_fires import FirstFires, counted_from

        self._unscheduled = {job.job_id: job for job in jobs}
        self._queue = deque(self._unscheduled.values())
        fires = self._first_fires = FirstFires(
            counted_from(instant),
            (
                (job.schedule.normalized, job.tz)
                for job in self._queue
                if job.schedulable and not job.paused
            ),
        )
        if known is not None:
            fires.carry(known)
        self.scheduler.start()
        self._schedule_some(instant)
        if not self._queue:
            self._first_fires = None
        return bool(self._queue)

    def hand_over_rest(
        self, loop: asyncio.AbstractEventLoop, instant: datetime, done: Callable[[], None]
    ) -> None:
        """The rest, a chunk per loop iteration; then ``done`` (once, for them all)."""
        self._task = loop.create_task(
            self._schedule_rest(instant, done), name="jobconsole:schedule"
        )

    def _schedule_some(self, instant: datetime) -> None:
        queue, unscheduled = self._queue, self._unscheduled
        chunk: list[LiveJob] = []
        while queue and len(chunk) < SCHEDULE_CHUNK:
            job = queue.popleft()
            if unscheduled.get(job.job_id) is not job:
                continue  # removed, replaced or resumed (so scheduled) since begin()
            del unscheduled[job.job_id]
            chunk.append(job)
        self._add(chunk, instant)

    async def _schedule_rest(self, instant: datetime, done: Callable[[], None]) -> None:
        import asyncio

        while self._queue:
            await asyncio.sleep(0)  # let the loop answer between chunks
            self._schedule_some(instant)
        self._task = None
        self._unscheduled.clear()
        self._first_fires = None
        done()

    def stop_handing_over(self) -> None:
        """Stop handing jobs over (a shutdown while begin()'s chunks still go)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._unscheduled.clear()
        self._queue.clear()
        self._first_fires = None

    def stop(self) -> None:
        """Stop firing at once."""
        self.stop_handing_over()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def end(self) -> None:
        self.stop_handing_over()
        self.scheduler = None
        self._store = None
        self._triggers.clear()

    def _add(self, jobs: Iterable[LiveJob], instant: datetime | None) -> None:
        """Hand ``jobs`` to APScheduler in one step; each one's first run is the first fire
        time at or after ``instant`` (None: now, for a job scheduled on its own)."""
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running:
            return
        firsts = self._first_fires if instant is not None else None
        now = _scheduling_now(scheduler.timezone) if instant is None else instant
        added: list[tuple[str, engine.CronTrigger, datetime | None]] = []
        triggers, first_of = self._triggers, firsts.of if firsts is not None else None
        for job in jobs:
            if not job.schedulable:
                continue
            schedule, tz = job.schedule, job.tz
            trigger = triggers.get((schedule.expression, tz)) or self._trigger(job)
            if job.paused:
                first = None
            elif first_of is None:
                first = trigger.get_next_fire_time(None, now)
            else:
                first = first_of(schedule.normalized, tz)
            added.append((job.job_id, trigger, first))
        if added:
            scheduler.add_jobs(_dispatch_placeholder, added)

    def _trigger(self, job: LiveJob) -> engine.CronTrigger:
        # By the expression's text, which makes the whole CronSchedule (parse() is a
        # function of it), and hashes quicker than it.
        key = (job.schedule.expression, job.tz)
        trigger = self._triggers.get(key)
        if trigger is None:
            from jobs.core import engine

            trigger = self._triggers[key] = engine.CronTrigger(job.schedule, job.tz)
        return trigger

    # ------------------------------------------------------------------ one job

    def holds(self, job_id: str) -> bool:
        return self._store is not None and self._store.lookup_job(job_id) is not None

    def schedule(self, job: LiveJob) -> bool:
        """Hand the job over (one registered, replaced or resumed while running); its first
        run is its next fire time from now. Returns whether it was scheduled."""
        if self._unscheduled.get(job.job_id) is job:
            del self._unscheduled[job.job_id]
        if not self.running or not job.schedulable:
            return False
        self._add((job,), None)
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
            self.scheduler.reschedule_job(job.job_id, trigger=self._trigger(job))
            if job.paused:
                self.scheduler.pause_job(job.job_id)

    def next_run_time(
        self, job: LiveJob, known: Mapping[str, datetime | None] | None = None
    ) -> datetime | None:
        """``known``: every job's next run time read at once (``next_run_times``)."""
        if self._store is None or not job.schedulable or job.paused:
            return None
        if known is not None:
            return known.get(job.job_id)
        ap_job = self._store.lookup_job(job.job_id)
        return ap_job.next_run_time if ap_job is not None else None

    def next_run_times(self) -> dict[str, datetime | None]:
        """Every scheduled job's next run time, read in one pass: asking APScheduler job by
        job (a lock and a lookup each) was a third of snapshotting 10,000 jobs."""
        if self._store is None:
            return {}
        return self._store.next_run_times()
