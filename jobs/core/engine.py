"""What APScheduler sees of jobconsole: a trigger that asks cronsim *when*, an executor that
hands due jobs back to the service (which owns *how* they run), and a scheduler that looks
for due jobs once per loop iteration.

Imported only once scheduling starts, so that the console's first frame and the commands
that only read (``cron``, ``list``, ``history``) do not wait for APScheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger

from jobs.core.cron import CronSchedule, next_fire
from jobs.core.first_fires import counted_from

#: The longest APScheduler waits between looks for due jobs. Its timer runs on the
#: monotonic clock, which stands still while the machine sleeps: a wait taken before a
#: suspend (up to 49 days for a yearly job) would notice the runs due meanwhile only
#: once it ran out. A look costs a few microseconds when nothing is due.
LOOK_EVERY_SECONDS = 10.0


class CronTrigger(BaseTrigger):
    """An APScheduler trigger that asks cronsim for the next fire time, in its own zone."""

    __slots__ = ("schedule", "tz")

    def __init__(self, schedule: CronSchedule, tz: ZoneInfo) -> None:
        self.schedule = schedule
        self.tz = tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            start = previous_fire_time.timestamp()
        else:
            start = counted_from(now)
        return next_fire(self.schedule.normalized, self.tz, start)

    def __str__(self) -> str:
        return f"cron[{self.schedule.expression}, {self.tz.key}]"

    def __repr__(self) -> str:
        return f"<CronTrigger {self.schedule.expression!r} tz={self.tz.key!r}>"


class Executor(BaseExecutor):
    """Hands APScheduler's due jobs to the service, which owns how they run.

    Jobs are added with ``coalesce=False``, so ``run_times`` holds every time due since
    the last look, oldest first: more than one means the process stalled (stopped,
    suspended, its loop blocked, the clock jumped), and the service records those it
    does not run. With ``coalesce=True`` APScheduler would pass the latest alone.
    """

    def __init__(self, submit: Callable[[str, list[datetime]], None]) -> None:
        super().__init__()
        self._submit = submit

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self._submit(job.id, run_times)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:  # pragma: no cover
        raise NotImplementedError


class Scheduler(AsyncIOScheduler):
    """An AsyncIOScheduler that looks for due jobs once per loop iteration however many
    wakeups are asked for: adding a job to a running scheduler asks for one each, and
    ``start()`` adds hundreds per iteration."""

    _wakeup_pending = False
    _model: Job | None = None

    def add_jobs(
        self, func: Callable[[], None], jobs: Iterable[tuple[str, BaseTrigger, datetime | None]]
    ) -> None:
        """Add (or replace) jobs ``(id, trigger, next run time)``, all running ``func``
        with no arguments, to the default job store (a ``HeapJobStore``) in one step, as
        ``add_job(func, trigger, id=id, name=id, replace_existing=True, next_run_time=...)``
        would one by one; the scheduler must be started.

        ``add_job`` checks ``func``'s signature against the arguments (``inspect``),
        builds an "Added job" log record and an event nobody listens to, for every job: a
        third of a start at 100,000 jobs. Here one model job is made by APScheduler's own
        checks, and each job is a copy of it with its id, trigger and next run time.
        """
        if self.state == STATE_STOPPED:
            raise RuntimeError("add_jobs() needs a started scheduler")
        model = self._model
        if model is None or model.func is not func:
            model = self._model = Job(
                self,
                id="model",
                name="model",
                func=func,
                trigger=_NEVER,
                executor="default",
                args=(),
                kwargs={},
                next_run_time=None,
                **self._job_defaults,
            )
        func_ref, args, kwargs = model.func_ref, model.args, model.kwargs
        grace, coalesce, instances = model.misfire_grace_time, model.coalesce, model.max_instances
        new = Job.__new__

        def made() -> Iterable[Job]:
            for job_id, trigger, next_run_time in jobs:
                job = new(Job)
                job._scheduler = self
                job._jobstore_alias = "default"
                job.id = job.name = job_id
                job.func, job.func_ref, job.args, job.kwargs = func, func_ref, args, kwargs
                job.executor = "default"
                job.misfire_grace_time, job.coalesce = grace, coalesce
                job.max_instances = instances
                job.trigger = trigger
                job.next_run_time = next_run_time
                yield job

        with self._jobstores_lock:
            self._lookup_jobstore("default").add_all(made(), replace=True)
        self.wakeup()

    def _start_timer(self, wait_seconds: float | None) -> None:
        if wait_seconds is not None:
            wait_seconds = min(wait_seconds, LOOK_EVERY_SECONDS)
        super()._start_timer(wait_seconds)

    def wakeup(self) -> None:
        if not self._wakeup_pending and self._eventloop is not None:
            self._wakeup_pending = True
            self._eventloop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wakeup_pending = False
        if self._eventloop is not None:  # not shut down meanwhile
            AsyncIOScheduler.wakeup.__wrapped__(self)  # type: ignore[attr-defined]


class _Never(BaseTrigger):
    """The model job's trigger: it is never stored, so never asked."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> None:
        return None


_NEVER = _Never()
