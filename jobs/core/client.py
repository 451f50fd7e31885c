"""The one surface a console (or a command) uses to watch and steer a scheduler.

``SchedulerClient`` is what the console calls for every read and every action. Today's
implementation, ``LocalClient``, holds a ``SchedulerService`` in this process; a client of
a scheduler in another process (over a socket) is the next. So the surface is shaped for
that one:

- the reads and actions are coroutines (a remote client awaits its answer);
- what crosses it are the frozen values of ``jobs.core.records`` (``JobSnapshot``,
  ``Execution``, ``SchedulerEvent``) and ``SchedulerStatus``, all rebuildable from JSON;
- events come through one channel, ``subscribe(callback)``, called on the event loop;
- refusals are the library's own exceptions (``JobNotFoundError``, ``DuplicateJobError``,
  ``InvalidJobError``, ``cron.CronError``, ``cron.TimezoneError``), with their words and
  ``field``, so a form shows the library's message under the field at fault.

``status()`` is the one synchronous read: the status line asks it every second, so it is
what the client holds (a remote client: as its last answer and events left it).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Unpack

from jobs.core import funcs
from jobs.core.job_options import OptionKeys
from jobs.core.records import (
    Execution,
    JobRow,
    JobSnapshot,
    RegistryLoad,
    SchedulerEvent,
    SchedulerStatus,
)
from jobs.core.service import SchedulerService

Subscriber = Callable[[SchedulerEvent], None]


class SchedulerClient(abc.ABC):
    """Watch and steer one scheduler. Every method may raise the library's exceptions."""

    # ---------------------------------------------------------------- status

    @abc.abstractmethod
    def status(self) -> SchedulerStatus:
        """The scheduler's state as this client knows it now; cheap, never waits."""

    @abc.abstractmethod
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` on the event loop with every event; returns the unsubscribe.

        The callback must be quick and must not call back into the client: it may run
        inside the call that caused the event. Queue the event and act on it later.
        """

    # ------------------------------------------------------------- lifecycle

    @abc.abstractmethod
    async def start(self) -> None:
        """Begin: schedule the jobs (in process) or attach to the scheduler (remote)."""

    @abc.abstractmethod
    async def stop(self, timeout: float | None = None) -> None:
        """End: in process, stop scheduling and give running jobs ``timeout`` seconds (the
        settings' shutdown timeout when None; 0 cancels them at once); remote, detach,
        leaving the scheduler and its jobs running. Calling it again with a shorter
        timeout while one is waiting cuts that wait short."""

    async def load_registry_step(self, count: int | None = None) -> RegistryLoad:
        """Load up to ``count`` more of the registry entries the scheduler loads a step at
        a time (None: all that are left), so that a console draws its first rows first.
        A remote scheduler's host loaded its registry before serving: nothing is left."""
        return RegistryLoad(0, 0)

    # ----------------------------------------------------------------- reads

    @abc.abstractmethod
    async def get_jobs(self) -> list[JobSnapshot]: ...

    async def get_job_rows(self) -> list[JobRow]:
        """``get_jobs`` as plain rows, what a console's table holds: a scheduler in this
        process makes them without a snapshot per job."""
        return [JobRow.of(job) for job in await self.get_jobs()]

    async def next_run_times(self) -> dict[str, datetime | None]:
        """Each job's next run time, by id (a job not there has none): what a start
        changes of every job."""
        return {job.job_id: job.next_run_time for job in await self.get_jobs()}

    @abc.abstractmethod
    async def get_job(self, job_id: str) -> JobSnapshot: ...

    @abc.abstractmethod
    async def recent_executions(
        self, job_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        """Newest first; of one job, or of all when ``job_id`` is None."""

    @abc.abstractmethod
    async def recent_runs(
        self, job_ids: Sequence[str], limit: int = 20
    ) -> dict[str, list[Execution]]:
        """Each job's newest ``limit`` finished runs, newest first, without their output,
        error or traceback, in one call: the table asks for the rows on screen."""

    @abc.abstractmethod
    async def next_fire_times(self, job_id: str, count: int = 10) -> list[datetime]: ...

    @abc.abstractmethod
    async def function_refs(self) -> list[str]:
        """``module:function`` references of job-shaped functions in the registry's
        package, to suggest in the register form (found without importing them)."""

    # --------------------------------------------------------------- actions

    @abc.abstractmethod
    async def register_job(
        self, job_id: str, func_ref: str, cron_expression: str, **options: Unpack[OptionKeys]
    ) -> JobSnapshot:
        """Register a job by ``module:function`` reference, with ``options`` by name (as
        ``SchedulerService.register_job``); a refusal changes nothing."""

    @abc.abstractmethod
    async def pause_job(self, job_id: str) -> JobSnapshot: ...

    @abc.abstractmethod
    async def resume_job(self, job_id: str) -> JobSnapshot: ...

    @abc.abstractmethod
    async def enable_job(self, job_id: str) -> JobSnapshot:
        """Let a disabled job run on schedule again; kept across restarts."""

    @abc.abstractmethod
    async def disable_job(self, job_id: str) -> JobSnapshot:
        """Stop scheduling the job and list it as disabled; kept across restarts."""

    @abc.abstractmethod
    async def run_job_now(self, job_id: str) -> Execution:
        """Run it now, outside its schedule; the execution as it starts (or as skipped)."""

    @abc.abstractmethod
    async def reschedule_job(self, job_id: str, cron_expression: str) -> JobSnapshot: ...

    @abc.abstractmethod
    async def set_timeout(self, job_id: str, timeout_seconds: float | None) -> JobSnapshot: ...

    @abc.abstractmethod
    async def remove_job(self, job_id: str) -> None: ...


class LocalClient(SchedulerClient):
    """A client of a ``SchedulerService`` in this process: each call is the service's.

    It hears the service only while someone subscribes to it (an event costs the service
    a snapshot only when it is heard).
    """

    def __init__(self, service: SchedulerService) -> None:
        self.service = service
        self._subscribers: list[Subscriber] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._functions: list[str] | None = None

    def status(self) -> SchedulerStatus:
        return self.service.status()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)
        if self._unsubscribe is None:
            self._unsubscribe = self.service.subscribe(self._hear)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
            if not self._subscribers and self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

        return unsubscribe

    def _hear(self, event: SchedulerEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)  # the service logs a subscriber that fails

    async def start(self) -> None:
        self.service.start()

    async def stop(self, timeout: float | None = None) -> None:
        task = self.service.shutdown(timeout=timeout)
        if task is not None:
            await task

    async def load_registry_step(self, count: int | None = None) -> RegistryLoad:
        return self.service.load_registry_step(count)

    async def get_jobs(self) -> list[JobSnapshot]:
        return self.service.get_jobs()

    async def get_job_rows(self) -> list[JobRow]:
        return self.service.job_rows()

    async def next_run_times(self) -> dict[str, datetime | None]:
        return self.service.next_run_times()

    async def get_job(self, job_id: str) -> JobSnapshot:
        return self.service.get_job(job_id)

    async def recent_executions(
        self, job_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        import asyncio

        # A run announced as ended may still be on its way to the state file (its writer
        # thread): waited for off the loop, so that it is in the history read here.
        await asyncio.to_thread(self.service.wait_written)
        return self.service.recent_executions(job_id, limit=limit)

    async def recent_runs(
        self, job_ids: Sequence[str], limit: int = 20
    ) -> dict[str, list[Execution]]:
        return self.service.recent_runs(job_ids, limit)

    async def next_fire_times(self, job_id: str, count: int = 10) -> list[datetime]:
        return self.service.next_fire_times(job_id, count)

    async def function_refs(self) -> list[str]:
        if self._functions is None:  # a walk of the package's files: once
            registry = self.service.settings.registry
            package = registry.rpartition(".")[0] or registry
            self._functions = funcs.discover(package)
        return list(self._functions)

    async def register_job(
        self, job_id: str, func_ref: str, cron_expression: str, **options: Unpack[OptionKeys]
    ) -> JobSnapshot:
        return self.service.register_job(job_id, func_ref, cron_expression, **options)

    async def pause_job(self, job_id: str) -> JobSnapshot:
        return self.service.pause_job(job_id)

    async def resume_job(self, job_id: str) -> JobSnapshot:
        return self.service.resume_job(job_id)

    async def enable_job(self, job_id: str) -> JobSnapshot:
        return self.service.enable_job(job_id)

    async def disable_job(self, job_id: str) -> JobSnapshot:
        return self.service.disable_job(job_id)

    async def run_job_now(self, job_id: str) -> Execution:
        return self.service.run_job_now(job_id)

    async def reschedule_job(self, job_id: str, cron_expression: str) -> JobSnapshot:
        return self.service.reschedule_job(job_id, cron_expression)

    async def set_timeout(self, job_id: str, timeout_seconds: float | None) -> JobSnapshot:
        return self.service.set_timeout(job_id, timeout_seconds)

    async def remove_job(self, job_id: str) -> None:
        self.service.remove_job(job_id)
