"""The runner: turns a fire into an Execution. It launches the run (one at a time per job
id), runs the job's code (a coroutine on the loop, a plain def in a worker thread, or a
child process), captures its output, bounds it by its timeout and records every outcome
in the store, announcing each.

asyncio and what runs a job (``running.py``, ``isolation.py``) are imported by the methods
that run on the loop, so that code which only reads jobs, such as ``jobconsole list``, does
not pay for them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING

from jobs.core import capture, funcs
from jobs.core.live_jobs import LiveJob
from jobs.core.records import Execution, ExecutionStatus, LastRun, Trigger
from jobs.core.settings import Settings
from jobs.core.state_store import StateStore
from jobs.core.tracebacks import format_job_exception

if TYPE_CHECKING:
    import asyncio

#: How long a coroutine may hold the event loop in one step before its record says so.
BLOCKING_WARNING_SECONDS = 0.5
#: Deferred records applied per turn of the loop: a burst's 20,000 (a start and an end
#: per run) take a few hundred ms, which the console and the timers should not wait for.
SETTLE_CHUNK = 1000
#: A run this close to its time is on time whatever the misfire grace (even 0): the loop
#: always wakes a little after the due time.
ON_TIME_SECONDS = 1.0

_STDIO_NAMES = {1: "output", 2: "error"}

log = logging.getLogger("jobconsole")


@functools.cache
def _machinery() -> tuple[ModuleType, ModuleType, ModuleType]:
    """What runs a job's code, imported once: an import statement in ``_run`` costs a few
    microseconds at every execution."""
    from jobs.core import isolation, running, thread_pool

    return isolation, running, thread_pool


RUNNING = ExecutionStatus.RUNNING

#: An execution's fields, in order, as a deferred record holds them.
_Fields = tuple[
    int,
    str,
    ExecutionStatus,
    datetime | None,
    datetime | None,
    datetime | None,
    Trigger,
    str | None,
    str | None,
    str,
    bool,
    tuple[str, ...],
]


def _is_async(func: Callable[..., object]) -> bool:
    """``funcs.is_async``, asked once per function (two ``inspect`` calls a run before)."""
    try:
        return _kind_of(func)
    except TypeError:  # unhashable
        return funcs.is_async(func)


_kind_of = functools.lru_cache(maxsize=4096)(funcs.is_async)


class Runner:
    """Runs the service's jobs (``jobs``, shared with it) and records their executions in
    ``store``; ``announce`` is told of each record, on the loop."""

    def __init__(
        self,
        store: StateStore,
        settings: Settings,
        clock: Callable[[], datetime],
        jobs: dict[str, LiveJob],
        announce: Callable[[LiveJob, Execution], None],
    ) -> None:
        self._store = store
        self.settings = settings
        self._clock = clock
        self._jobs = jobs
        self._announce = announce
        self.tasks: dict[int, asyncio.Task[None]] = {}
        # One execution at a time per job id, whatever LiveJob holds the id: a job
        # replaced (or removed and registered again) while it runs must not run twice.
        self.running: dict[str, int] = {}  # job id -> the id of its execution
        self.pid: int | None = None  # the process that started it; a fork never fires
        #: Records made on the way of a burst (launches, ends of runs), kept in order and
        #: applied once everything ready to run has had its turn (see ``_defer``).
        self._deferred: deque[_Fields] = deque()
        self._deferred_jobs: deque[LiveJob] = deque()  # each one's job: no pair per record
        self._settling = False  # a settle is on its way through the loop
        #: Runs launched whose code has not had its first step: a task cancelled before
        #: it never runs ``_run``, so ``end_unbegun`` records its end.
        self._unbegun: dict[int, tuple[LiveJob, datetime, datetime | None, Trigger]] = {}

    def use_store(self, store: StateStore) -> None:
        """Record in ``store`` from now on: the state file, opened when scheduling begins."""
        self._store = store

    @property
    def forked(self) -> bool:
        """A forked child's copy: it fires nothing and records nothing (see leave_to_parent)."""
        return self.pid is not None and os.getpid() != self.pid

    def leave_to_parent(self) -> None:
        """Right after a fork, in the child: cancel the runs launched but not yet begun
        (those due with the forking job), so that no job's code runs a second time here.
        Runs under way go on in this copy, unrecorded: a job that forks should exec or
        ``os._exit`` in the child."""
        import asyncio
        import inspect

        for loop in {task.get_loop() for task in self.tasks.values()}:
            for task in asyncio.all_tasks(loop):
                coro = task.get_coro()
                if (
                    task.get_name().startswith("job:")
                    and inspect.iscoroutine(coro)
                    and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED
                ):
                    with contextlib.suppress(RuntimeError):  # forked off the loop thread
                        task.cancel()

    def end(self) -> None:
        """At shutdown: the idle worker threads end. Each holds the ``sys.stderr`` it was
        started under (``threading.Thread`` keeps it), here capture's router over what
        the streams were then, a finished console's among them; the next run starts new
        ones."""
        thread_pool = sys.modules.get("jobs.core.thread_pool")
        if thread_pool is not None:
            thread_pool.retire_idle()

    def fire(self, job: LiveJob, run_times: list[datetime]) -> None:
        """A fire of ``job`` (every due time since the last look, oldest first): runs due
        during a stall are recorded as missed, and so is the latest if it is too late."""
        scheduled = run_times[-1]
        if len(run_times) > 1:
            last_missed = run_times[-2].astimezone(job.tz)
            self.record_instant(
                job,
                ExecutionStatus.MISSED,
                run_times[-2],
                f"missed {len(run_times) - 1} run(s) due while jobconsole was stalled (stopped, "
                "suspended, its event loop blocked, or the clock jumped forward; last due "
                f"{last_missed:%Y-%m-%d %H:%M %Z})",
            )
        now = self._clock()
        late = (now - scheduled).total_seconds()
        if late > max(self.settings.misfire_grace_seconds, ON_TIME_SECONDS):
            self.record_instant(
                job,
                ExecutionStatus.MISSED,
                scheduled,
                f"started {late:.0f}s late, beyond the misfire grace time of "
                f"{self.settings.misfire_grace_seconds:g}s",
            )
            return
        if self._skipped(job, scheduled, Trigger.SCHEDULE) is not None:
            return
        # Its *running* record waits for the turn's others: a burst's runs all begin first.
        execution_id = self._store.next_execution_id()
        self.running[job.job_id] = execution_id
        self._start(job, execution_id, scheduled, now, Trigger.SCHEDULE)
        self._defer(
            job,
            (
                execution_id,
                job.job_id,
                RUNNING,
                scheduled,
                now,
                None,
                Trigger.SCHEDULE,
                None,
                None,
                "",
                False,
                (),
            ),
        )

    def launch(self, job: LiveJob, scheduled: datetime, trigger: Trigger) -> Execution:
        """Start a run of ``job`` now, recorded and announced before this returns (or
        record it skipped while one runs)."""
        skipped = self._skipped(job, scheduled, trigger)
        if skipped is not None:
            return skipped
        execution = Execution(
            id=self._store.next_execution_id(),
            job_id=job.job_id,
            status=RUNNING,
            scheduled_time=scheduled,
            started_at=self._clock(),
            trigger=trigger,
        )
        self.running[job.job_id] = execution.id
        self._record(job, execution)
        self._start(job, execution.id, scheduled, execution.started_at, trigger)
        return execution

    def _skipped(self, job: LiveJob, scheduled: datetime, trigger: Trigger) -> Execution | None:
        """The *skipped* record of a run of ``job`` while one runs, else None."""
        if self.forked:
            raise RuntimeError(
                f"this process (pid {os.getpid()}) is a fork of the scheduler (pid "
                f"{self.pid}); it runs no jobs"
            )
        running = self.running.get(job.job_id)
        if running is not None and running in self._unbegun:
            self.end_unbegun((running,))  # it may have been cancelled before it began
        if running is not None and self._deferred:
            self.settle()  # its end may be among the records not applied yet
            running = self.running.get(job.job_id)
        if running is None:
            return None
        return self.record_instant(
            job,
            ExecutionStatus.SKIPPED,
            scheduled,
            f"skipped: execution #{running} of {job.job_id} is still running",
            trigger=trigger,
        )

    def _start(
        self,
        job: LiveJob,
        execution_id: int,
        scheduled: datetime,
        started: datetime | None,
        trigger: Trigger,
    ) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        run = self._run(job, execution_id, scheduled, started, trigger, loop.time())
        # The task takes itself out of ``tasks`` as it ends (see _run).
        self.tasks[execution_id] = loop.create_task(run, name=f"job:{job.job_id}#{execution_id}")
        self._unbegun[execution_id] = (job, scheduled, started, trigger)

    def end_unbegun(self, execution_ids: Iterable[int] | None = None) -> None:
        """Record as cancelled each run (of ``execution_ids``, else all) whose task was
        cancelled before its first step: its code never ran, and nothing else ends it."""
        unbegun = self._unbegun
        for execution_id in list(unbegun if execution_ids is None else execution_ids):
            task = self.tasks.get(execution_id)
            if execution_id not in unbegun or (task is not None and not task.done()):
                continue
            job, scheduled, started, trigger = unbegun.pop(execution_id)
            self.tasks.pop(execution_id, None)
            self._defer(
                job,
                (
                    execution_id,
                    job.job_id,
                    ExecutionStatus.CANCELLED,
                    scheduled,
                    started,
                    self._clock(),
                    trigger,
                    "cancelled before it began",
                    None,
                    "",
                    False,
                    (),
                ),
            )

    async def _run(
        self,
        job: LiveJob,
        execution_id: int,
        scheduled: datetime,
        started: datetime | None,
        trigger: Trigger,
        launched: float,
    ) -> None:
        """Run one execution; the timeout counts from launch, not from the first step."""
        import asyncio

        self._unbegun.pop(execution_id, None)
        isolation, running, thread_pool = _machinery()
        buffer = capture.OutputBuffer(self.settings.output_limit_bytes)
        timeout = job.options.timeout_seconds or self.settings.job_timeout_seconds
        warnings: list[str] = []
        error = trace = None
        timed = None
        thread_run = None
        began = None  # when its code really began: the loop may be late

        running.guard_stop(asyncio.get_running_loop())
        # Set, not entered as context managers: a burst runs thousands of these per second.
        # Capture is reference counted: this also covers a run_job_now() before start().
        captured = capture.begin(buffer)
        noted = running.note(warnings)
        try:
            assert job.func is not None
            is_async = _is_async(job.func)
            async with asyncio.timeout_at(launched + timeout) if timeout else running.NO_LIMIT:
                if job.options.isolation == "process":
                    began = self._clock()
                    await isolation.run(job.func_ref, buffer)
                elif is_async:
                    timed = running.Timed(job.func(), self._clock)
                    await timed
                else:
                    thread_run = thread_pool.run(job.func, f"job:{job.job_id}", self._clock)
                    result = await thread_run.future
                    if inspect.isawaitable(result):  # e.g. an async def behind a decorator
                        timed = running.Timed(result)
                        await timed
            status = ExecutionStatus.SUCCEEDED
        except TimeoutError:
            status = ExecutionStatus.TIMED_OUT
            error = f"TimeoutError: timed out after {timeout:g}s"
            if thread_run is not None and thread_run.leave():
                warnings.append(
                    "a thread cannot be stopped: it is still running in the background; "
                    "the job's slot is free for its next run"
                )
            elif timed is not None and timed.abandoned:
                warnings.append(
                    "it ignored its cancellation: it is still running in the background; "
                    "the job's slot is free for its next run"
                )
        except asyncio.CancelledError:
            status = ExecutionStatus.CANCELLED
            error = "cancelled: the scheduler shut down before the job finished"
            if thread_run is not None and thread_run.leave():
                warnings.append("its thread cannot be stopped and may still be running")
            elif timed is not None and timed.abandoned:
                warnings.append("it ignored its cancellation and may still be running")
        except isolation.ProcessJobError as exc:
            status = ExecutionStatus.FAILED
            error, trace = str(exc), exc.trace
        except BaseException as exc:  # a job's SystemExit or KeyboardInterrupt is a failure too
            status = ExecutionStatus.FAILED
            error = f"{type(exc).__name__}: {exc}"
            trace = format_job_exception(exc)
        finally:
            running.unnote(noted)
            taken = capture.end(captured)
            # Its task ends in this step: no done callback (a handle and a turn) per run.
            self.tasks.pop(execution_id, None)
        if taken:
            warnings.append(
                f"replaced {' and '.join(taken)}; jobconsole put its own back so that other "
                "jobs' output stays captured"
            )
        if closed := running.reopen_closed_stdio():
            both = len(closed) > 1
            warnings.append(
                f"closed file descriptor{'s' if both else ''} {' and '.join(map(str, closed))} "
                f"(standard {' and '.join(_STDIO_NAMES[fd] for fd in closed)}); jobconsole "
                "opened /dev/null there so that files opened later do not take "
                f"{'their' if both else 'its'} place"
            )
        if timed is not None and timed.longest >= BLOCKING_WARNING_SECONDS:
            warnings.append(
                f"blocked the event loop for about {timed.longest:.1f}s in one step; "
                "use 'await asyncio.sleep' or a plain def (run in a thread) for blocking work"
            )
        if thread_run is not None:
            began = thread_run.began
        elif timed is not None:
            began = timed.began
        began = began or started
        ended = self._clock()
        output, truncated = buffer.getvalue(), buffer.truncated
        self._defer(  # it leaves ``running`` when this is applied
            job,
            (
                execution_id,
                job.job_id,
                status,
                scheduled,
                began,
                ended,
                trigger,
                error,
                trace,
                output,
                truncated,
                tuple(warnings),
            ),
        )

    def record_instant(
        self,
        job: LiveJob,
        status: ExecutionStatus,
        scheduled: datetime | None,
        message: str,
        trigger: Trigger = Trigger.SCHEDULE,
    ) -> Execution:
        execution = Execution(
            id=self._store.next_execution_id(),
            job_id=job.job_id,
            status=status,
            scheduled_time=scheduled,
            trigger=trigger,
            error=message,
        )
        self._record(job, execution)
        return execution

    def _record(self, job: LiveJob, execution: Execution) -> None:
        """Record and announce ``execution`` now, after the deferred records (in order)."""
        if self.forked:
            return
        if self._deferred:
            self.settle()
        self._apply(job, execution)

    def _defer(self, job: LiveJob, fields: _Fields) -> None:
        """Record the execution of ``job`` with ``fields`` once everything ready to run
        now has had its turn. Made into its ``Execution`` then: 2 µs less where a burst
        waits, and one object fewer alive per run meanwhile.

        A burst launches thousands of runs in one callback and each short run ends in its
        first step: with every record stored and announced on the spot, the last job's code
        began only after every other run's bookkeeping. Deferred, their code all runs
        first, and the records are applied in one go, in the order they were made; until
        then the service reads as it was before them (the run is still *running*).
        """
        self._deferred_jobs.append(job)
        self._deferred.append(fields)
        if not self._settling:
            import asyncio

            self._settling = True
            asyncio.get_running_loop().call_soon(self._settle_after)

    def _settle_after(self) -> None:
        # Scheduled with the first record: the runs made ready beside it come first.
        import asyncio

        asyncio.get_running_loop().call_soon(self._settle_soon)

    def _settle_soon(self) -> None:
        self._settling = False
        self.settle(SETTLE_CHUNK)
        if self._deferred and not self._settling:  # the rest after the loop's other work
            import asyncio

            self._settling = True
            asyncio.get_running_loop().call_soon(self._settle_soon)

    def settle(self, limit: int | None = None) -> None:
        """Apply the deferred records now (the first ``limit`` of them), in order: a
        shutdown needs them all, and so does a launch whose job may have ended meanwhile."""
        deferred, jobs = self._deferred, self._deferred_jobs
        if not deferred:
            return
        if self.forked:
            deferred.clear()
            jobs.clear()
            return
        left = -1 if limit is None else limit  # -1: until none is left
        while deferred and left:  # one by one: a record made while announcing waits its turn
            left -= 1
            fields, job = deferred.popleft(), jobs.popleft()
            try:
                self._apply(job, Execution(*fields))
            except Exception:  # the others must still be recorded
                log.exception("recording execution #%s of %s failed", fields[0], job.job_id)

    def _apply(self, job: LiveJob, execution: Execution) -> None:
        job_id = execution.job_id
        if self.running.get(job_id) == execution.id and execution.status.is_final:
            del self.running[job_id]
        # Counted for the job holding the id now: a job replaced (or removed and registered
        # again) while this ran goes on with its id's counts, as the state file keeps them.
        job = self._jobs.get(job_id, job)
        if execution.status.is_counted:
            job.run_count += 1
            if execution.status.is_failure:
                job.failure_count += 1
            job.last = LastRun.of(execution)
        self._store.record_execution(execution)
        self._announce(job, execution)

    # ------------------------------------------------------------ durable state
