"""How an execution's code runs on the loop: a plain def in a daemon thread, a coroutine
in a task of its own that is timed step by step (``isolation.py`` has the child process).

Kept apart from ``service.py`` so that what only reads jobs (``jobconsole list``) never
imports asyncio: 25-40 ms, a quarter of that command's time before.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from contextvars import copy_context
from functools import partial
from typing import Any

#: How long a cancelled coroutine may take to end before it is left running on its own.
CANCEL_GRACE_SECONDS = 0.5


def in_daemon_thread(func: Callable[[], Any], name: str) -> asyncio.Future[Any]:
    """Run ``func`` in a daemon thread with this context (so its output is captured).

    Daemon, not a pool: a job that never returns must not keep the process from exiting.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    ctx = copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            result = ctx.run(func)
        except BaseException as exc:
            outcome = partial(future.set_exception, exc)
        else:
            outcome = partial(future.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop may be closed by now
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=target, name=name, daemon=True).start()
    return future


class Timed:
    """Awaits a coroutine while timing each step, to catch jobs that block the loop."""

    __slots__ = ("abandoned", "asked", "coro", "longest", "told")

    def __init__(self, coro: Any) -> None:
        self.coro = coro
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
