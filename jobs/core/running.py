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
from contextvars import ContextVar, Token
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


def note(warnings: list[str]) -> Token[list[str] | None]:
    """``noting`` for code that cannot use a ``with``: pass the result to ``unnote``."""
    return _warnings.set(warnings)


def unnote(token: Token[list[str] | None]) -> None:
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
            # Not os.fstat: it lets go of the GIL, and a burst's thousands of checks on the
            # loop then wait for it behind the store's writer and the worker threads.
            os.get_inheritable(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            reopened.append(fd)
    return reopened


class _Ready:
    """Awaited, done at once: what ``NO_LIMIT`` enters and leaves with."""

    __slots__ = ()

    def __await__(self):  # type: ignore[no-untyped-def]
        return iter(())


_READY = _Ready()


class _NoLimit:
    """``asyncio.timeout_at(None)`` for a run with no timeout, without its cost: entering
    and leaving that one took about 3 µs of each execution's 15 on the loop."""

    __slots__ = ()

    def __aenter__(self) -> _Ready:
        return _READY

    def __aexit__(self, *exc_info: object) -> _Ready:  # a falsy result: nothing swallowed
        return _READY


NO_LIMIT = _NoLimit()


class Timed:
    """Awaits a coroutine in the awaiting task while timing each step, to catch jobs that
    block the loop; ``began`` is when its code began (by ``clock``, if given).

    No task of its own: the execution's task drives the coroutine, so a burst of
    executions allocates one task each, and each short one ends in the turn it began.
    A coroutine told to stop (its task cancelled: a timeout, a shutdown) has
    CANCEL_GRACE_SECONDS to end; one that goes on past them is left running in a task of
    its own (``abandoned``, named as the execution's task) and the cancellation goes on,
    so it cannot hold its execution, and its slot, forever.

    A coroutine that ignored its cancellation gets no second one: a later cancellation of
    its task closes it (``coro.close()``, so its ``finally`` blocks run). That later one is,
    in practice, ``asyncio.run`` ending the loop: it cancels every task left and waits for
    each to end, so one that swallowed it again would hold the process past any shutdown
    timeout, for as long as it cared to run.
    """

    __slots__ = ("abandoned", "began", "clock", "coro", "longest", "pending", "told")

    def __init__(self, coro: Any, clock: Callable[[], Any] | None = None) -> None:
        self.coro = coro
        self.clock = clock
        self.began: Any = None
        self.longest = 0.0
        self.abandoned = False
        self.told = False  # it has had its cancellation
        self.pending: Any = None  # what a coroutine left running was waiting for

    def __await__(self):  # type: ignore[no-untyped-def]
        coro = self.coro
        value: Any = None
        error: BaseException | None = None
        if self.clock is not None:
            self.began = self.clock()
        grace_ends: float | None = None  # a coroutine told to stop must end by then
        if self.pending is not None:  # left running: first what it was waiting for
            yield from self._second_cancellation_closes(self.pending)
        thrown = False  # a CancelledError was just thrown in
        while True:
            start = time.perf_counter()
            try:
                yielded = coro.throw(error) if error is not None else coro.send(value)
            except StopIteration as stop:
                self.longest = max(self.longest, time.perf_counter() - start)
                if self.told or (thrown and _asked()):  # it swallowed its cancellation
                    raise asyncio.CancelledError from None
                return stop.value
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                if self.told or (thrown and _asked()):  # the cancellation is the news
                    raise asyncio.CancelledError from exc
                raise
            self.longest = max(self.longest, time.perf_counter() - start)
            value, error = None, None
            if thrown and not self.told and _asked():
                # It went on with its task still asked to stop: a timeout of the job's own
                # takes its request back (uncancel), and a future cancelled by others makes none.
                self.told = True
                grace_ends = asyncio.get_running_loop().time() + CANCEL_GRACE_SECONDS
            thrown = False
            if grace_ends is not None:  # it went on after its cancellation
                came = yield from self._within(yielded, grace_ends)
                if came is None:  # cancelled again
                    with contextlib.suppress(BaseException):  # it may refuse to close too
                        coro.close()
                    raise asyncio.CancelledError
                if not came:
                    self._leave_running(yielded)
                    raise asyncio.CancelledError
                continue
            if self.told:
                yield from self._second_cancellation_closes(yielded)
                continue
            try:
                value = yield yielded
            except asyncio.CancelledError as exc:
                error, thrown = exc, True
            except BaseException as exc:  # the like go to the job
                error = exc

    def _second_cancellation_closes(self, yielded: Any):  # type: ignore[no-untyped-def]
        try:
            yield yielded
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):  # it may refuse to close too
                self.coro.close()
            raise

    def _within(self, yielded: Any, deadline: float):  # type: ignore[no-untyped-def]
        """Wait for what the coroutine yielded until ``deadline``: True if it came in time,
        False if not, None if this task was cancelled again meanwhile."""
        loop = asyncio.get_running_loop()
        if loop.time() >= deadline:
            return False
        if getattr(yielded, "_asyncio_future_blocking", None) is None:
            try:  # a bare yield (a turn of the loop), or what the task will refuse
                yield yielded
            except asyncio.CancelledError:
                return None
            return True
        waiter = loop.create_future()

        def wake(_: Any = None) -> None:
            if not waiter.done():
                waiter.set_result(None)

        yielded.add_done_callback(wake)
        timer = loop.call_at(deadline, wake)
        try:
            yield from waiter
        except asyncio.CancelledError:
            return None
        finally:
            timer.cancel()
            yielded.remove_done_callback(wake)
        return bool(yielded.done())

    def _leave_running(self, yielded: Any) -> None:
        """The coroutine goes on without its execution, in a task of its own."""
        self.abandoned = True
        rest = Timed(self.coro)
        rest.told = True
        rest.pending = yielded
        task = asyncio.current_task()
        name = task.get_name() if task is not None else "job"
        asyncio.get_running_loop().create_task(_left_running(rest), name=name)


def _asked() -> bool:
    """Whether this task has a request to stop (a ``cancel()`` not taken back)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _left_running(rest: Timed) -> None:
    try:
        await rest
    except asyncio.CancelledError:
        raise
    except BaseException:  # a SystemExit must not escape the task into the loop
        pass
