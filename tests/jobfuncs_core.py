"""Job functions for the scheduling-core tests, importable as ``tests.jobfuncs_core:name``,
and the helpers those tests share: a service factory, a fire made due, an event recorder
and a poll until something holds.

The functions are module-level on purpose: the service records each as
``module:qualname`` and can import it again by that reference.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobs.core.records import EventKind, Execution, SchedulerEvent
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings

log = logging.getLogger("tests.jobfuncs_core")


async def ok_async() -> str:
    print("ok_async ran")
    return "done"


def ok_plain() -> None:
    print(f"ok_plain ran in {threading.current_thread().name}")


async def short_async() -> None:
    """Long enough to be running when the test looks, short enough to finish on shutdown."""
    await asyncio.sleep(0.2)
    print("short_async finished")


async def long_async() -> None:
    """Runs far longer than any test: only a shutdown (cancel) ends it."""
    print("long_async started")
    await asyncio.sleep(30)


def long_plain() -> None:
    """A plain def that outlives a short shutdown grace; a thread cannot be cancelled."""
    time.sleep(0.6)


def blocking_plain() -> None:
    """Blocks its thread for half a second; the event loop must keep ticking meanwhile."""
    time.sleep(0.5)
    print(f"blocking_plain done in {threading.current_thread().name}")


async def fails() -> None:
    print("about to fail")
    raise ValueError("bad input: 42")


def fails_plain() -> None:
    raise ConnectionError("partner API did not answer")


async def exits_async() -> None:
    raise SystemExit(3)


def exits_plain() -> None:
    sys.exit("plain job called sys.exit")


async def interrupts_async() -> None:
    raise KeyboardInterrupt


def interrupts_plain() -> None:
    raise KeyboardInterrupt


async def speaks_everywhere() -> None:
    print("to stdout")
    print("to stderr", file=sys.stderr)
    log.warning("a warning from the job")
    log.error("an error from the job")


async def logs_info() -> None:
    log.info("an info record from the job")


def _interleave(name: str, pause: float) -> None:
    for i in range(5):
        print(f"{name} line {i}")
        log.warning("%s log %d", name, i)
        time.sleep(pause)


async def _interleave_async(name: str) -> None:
    for i in range(5):
        print(f"{name} line {i}")
        print(f"{name} err {i}", file=sys.stderr)
        log.warning("%s log %d", name, i)
        await asyncio.sleep(0.01)


async def chatty_a() -> None:
    await _interleave_async("A")


async def chatty_b() -> None:
    await _interleave_async("B")


def threaded_c() -> None:
    _interleave("C", 0.01)


def threaded_d() -> None:
    _interleave("D", 0.01)


def floods() -> None:
    print("x" * 10_000, end="")


def needs_argument(value: int) -> None:
    """Not job-shaped: it cannot be called without arguments."""


NOT_CALLABLE = 42


# ------------------------------------------------------------------- test helpers


def new_service(**settings: Any) -> SchedulerService:
    """A service in UTC with no state file; keywords override other Settings fields."""
    return SchedulerService(Settings(**{"timezone": "UTC", **settings}), store=None)


def make_due(service: SchedulerService, job_id: str, when: datetime | None = None) -> None:
    """Make APScheduler itself fire the job now (or at ``when``), through the real path."""
    assert service._scheduler is not None, "start() the service first"
    service._scheduler.modify_job(job_id, next_run_time=when or datetime.now(UTC))
    service._scheduler.wakeup()


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``condition`` (on the loop, so the service goes on meanwhile) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition {condition} not met within {timeout}s")
        await asyncio.sleep(0.01)


class EventLog:
    """Every SchedulerEvent a service emits, with a way to wait for one."""

    def __init__(self, service: SchedulerService) -> None:
        self.events: list[SchedulerEvent] = []
        self._changed = asyncio.Event()
        self.unsubscribe = service.subscribe(self._on_event)

    def _on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: EventKind, job_id: str | None = None) -> list[SchedulerEvent]:
        return [e for e in self.events if e.kind is kind and (job_id is None or e.job_id == job_id)]

    def kinds(self, job_id: str | None = None) -> list[EventKind]:
        return [e.kind for e in self.events if job_id is None or e.job_id == job_id]

    async def wait_for(
        self, kind: EventKind, job_id: str | None = None, count: int = 1, timeout: float = 3.0
    ) -> SchedulerEvent:
        """The ``count``-th event of ``kind`` (for ``job_id``), waiting up to ``timeout``."""

        async def arrived() -> SchedulerEvent:
            while True:
                found = self.of(kind, job_id)
                if len(found) >= count:
                    return found[count - 1]
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(arrived(), timeout)
        except TimeoutError:
            seen = ", ".join(f"{e.job_id}:{e.kind}" for e in self.events)
            raise AssertionError(
                f"no {kind!s} event #{count} for {job_id!r} within {timeout}s; saw: {seen}"
            ) from None

    async def finished(self, job_id: str, count: int = 1, timeout: float = 3.0) -> Execution:
        """The ``count``-th execution of ``job_id`` to end (succeeded, failed, cancelled...)."""

        async def arrived() -> Execution:
            while True:
                done = [
                    e.execution
                    for e in self.events
                    if e.job_id == job_id and e.execution is not None and e.kind in _RAN_AND_ENDED
                ]
                if len(done) >= count:
                    return done[count - 1]
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(arrived(), timeout)
        except TimeoutError:
            raise AssertionError(f"{job_id} did not finish within {timeout}s") from None


_RAN_AND_ENDED = {
    EventKind.EXECUTION_SUCCEEDED,
    EventKind.EXECUTION_FAILED,
    EventKind.EXECUTION_CANCELLED,
    EventKind.EXECUTION_TIMED_OUT,
}


def _plain_wrapper(func):  # type: ignore[no-untyped-def]
    """An ordinary decorator: the wrapper is a plain def returning the coroutine."""
    import functools

    @functools.wraps(func)
    def wrapper():  # type: ignore[no-untyped-def]
        return func()

    return wrapper


@_plain_wrapper
async def decorated_async() -> None:
    print("decorated body ran")
