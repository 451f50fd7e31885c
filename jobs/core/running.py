"""How an execution's code runs on the loop: a coroutine in a task of its own that is
timed step by step (``thread_pool.py`` has the threads plain defs run in, ``isolation.py``
the child process).

Kept apart from ``service.py`` so that what only reads jobs (``jobconsole list``) never
imports asyncio: 25-40 ms, a quarter of that command's time before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

#: How long a cancelled coroutine may take to end before it is left running on its own.
CANCEL_GRACE_SECONDS = 0.5

STOP_WARNING = (
    "called the event loop's stop(): jobconsole ignored it, so that the scheduler and the "
    "other jobs go on"
)

#: The warnings of the execution whose code runs in this context (None outside jobs).
_warnings: ContextVar[list[str] | None] = ContextVar("jobconsole_warnings", default=None)


@contextlib.contextmanager
def noting(warnings: list[str]) -> Iterator[None]:
    """What the job running in this context does to the loop is noted in ``warnings``."""
    token = _warnings.set(warnings)
    try:
        yield
    finally:
        _warnings.reset(token)


def guard_stop(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop.stop()`` ignore a call from a job's context, and note it there.

    One ``asyncio.get_event_loop().stop()`` in a job would end ``asyncio.run`` with
    "Event loop stopped before Future completed", so the scheduler, the other jobs and the
    console with them. A thread job's callbacks carry its copied context, so
    ``call_soon_threadsafe(loop.stop)`` is caught too; the program's own calls still stop.
    """
    stop = loop.stop
    if getattr(stop, "guards_jobs", False):
        return

    def guarded() -> None:
        notes = _warnings.get()
        if notes is None:
            stop()
        elif STOP_WARNING not in notes:
            notes.append(STOP_WARNING)

    guarded.guards_jobs = True  # type: ignore[attr-defined]
    loop.stop = guarded  # type: ignore[method-assign]


def reopen_closed_stdio() -> list[int]:
    """Open /dev/null on descriptor 1 or 2 if a job closed it; returns those it did.

    A closed 1 is the number the next ``open()`` gets: another job's file would then
    receive whatever the process, or a job's child, writes to standard output.
    """
    reopened = []
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            reopened.append(fd)
    return reopened


class Timed:
    """Awaits a coroutine while timing each step, to catch jobs that block the loop."""

    __slots__ = ("abandoned", "asked", "coro", "longest", "on_start", "told")

    def __init__(self, coro: Any, on_start: Callable[[], None] | None = None) -> None:
        self.coro = coro
        self.on_start = on_start  # called at the first step, when the job's code begins
        self.longest = 0.0
        self.abandoned = False
        self.asked = False  # run() has cancelled the job's task
        self.told = False  # ... and the job has had that cancellation

    async def run(self, name: str) -> Any:
        """Await the coroutine in a task of its own, so that one swallowing its
        cancellation cannot hold its execution (and its slot) forever: after
        CANCEL_GRACE_SECONDS it is left running (``abandoned``) and the cancellation goes on.

        A coroutine that ignored its cancellation gets no second one: a later cancellation
        of its task closes it (``coro.close()``, so its ``finally`` blocks run). That later
        one is, in practice, ``asyncio.run`` ending the loop: it cancels every task left
        and waits for each to end, so one that swallowed it again would hold the process
        past any shutdown timeout, for as long as it cared to run.
        """
        task = asyncio.get_running_loop().create_task(self._outcome(), name=name)
        try:
            ok, value = await asyncio.shield(task)
        except asyncio.CancelledError:
            self.asked = True
            task.cancel()
            try:
                await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
            finally:  # a second cancellation may cut the grace short
                self.abandoned = not task.done()
            raise
        if not ok:
            raise value
        return value

    async def _outcome(self) -> tuple[bool, Any]:
        try:
            return True, await self
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a SystemExit must not escape the task into the loop
            return False, exc

    def __await__(self):  # type: ignore[no-untyped-def]
        coro = self.coro
        value: Any = None
        error: BaseException | None = None
        if self.on_start is not None:
            self.on_start()
        while True:
            start = time.perf_counter()
            try:
                yielded = coro.throw(error) if error is not None else coro.send(value)
            except StopIteration as stop:
                self.longest = max(self.longest, time.perf_counter() - start)
                return stop.value
            self.longest = max(self.longest, time.perf_counter() - start)
            try:
                value, error = (yield yielded), None
            except asyncio.CancelledError as exc:
                if self.told:  # it had its cancellation and went on: it is not asked twice
                    with contextlib.suppress(BaseException):  # it may refuse to close too
                        coro.close()
                    raise
                self.told = self.asked
                value, error = None, exc
            except BaseException as exc:  # the like go to the job
                value, error = None, exc
