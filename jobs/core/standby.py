"""Standing by for a state file another live process schedules from, and taking it over.

Many processes may embed the service on one state file (a web app under ``uvicorn
--workers 3``, a ``run --headless`` beside a console). The hold on the file
(``lock.py``: an flock and an abstract socket, both released by the kernel when the
holder dies) decides which one schedules; the others stand by: they try the hold again
about every second, in a thread of its own so that a holder that does not answer never
stalls their loop, and the first to get it opens the file and schedules. Nothing here
fires; the service decides what a standby answers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.core.lock import StateError, StateLockedError, holder_info

if TYPE_CHECKING:
    import asyncio

    from jobs.core.records import Execution
    from jobs.core.store import Store

log = logging.getLogger("jobconsole")

#: How often a standby tries the hold again.
RETRY_SECONDS = 1.0

_ROLES = {
    "console": "a jobconsole console",
    "run --headless": "jobconsole run --headless",
    "library": "an app embedding SchedulerService",
}


def describe(pid: int | None, role: str | None) -> str:
    """``pid 123, jobconsole run --headless``: the holder as a sentence names it."""
    who = f"pid {pid}" if pid is not None else "pid unknown"
    what = _ROLES.get(role or "", role)
    return f"{who}, {what}" if what else who


@dataclass(frozen=True, slots=True)
class StandbyInfo:
    """What a standby knows of the process that schedules (as last found)."""

    state_path: Path
    holder_pid: int | None
    holder_role: str | None

    @property
    def holder(self) -> str:
        return describe(self.holder_pid, self.holder_role)

    @property
    def message(self) -> str:
        return (
            f"standing by: {self.holder} schedules from state file {self.state_path}; "
            f"this process (pid {os.getpid()}) takes over when it stops"
        )


class Standby:
    """Tries the hold on ``path`` every ``RETRY_SECONDS`` until it gets it or is stopped;
    ``take_over`` is then called on the loop with the state file, opened and held."""

    def __init__(
        self,
        path: Path,
        role: str,
        take_over: Callable[[Store], None],
        report: Callable[[str], None],
    ) -> None:
        self.path = Path(path)
        self._role = role
        self._take_over = take_over
        self._report = report
        self._task: asyncio.Task[None] | None = None
        self._last_error: str | None = None
        #: The holder as last found; the last one a try found by pid (who a takeover
        #: follows: not this process, found holding between its try and its takeover).
        self._now = self._known = self._found(*holder_info(self.path))

    @property
    def info(self) -> StandbyInfo:
        """The process that schedules, as the last try found it, or found again now when
        that one has died: between two tries it can die and another take the file (under
        uvicorn, the dead worker's replacement), and a standby must not name the dead."""
        pid = self._now.holder_pid
        if pid is None or not _alive(pid):
            self._now = self._found(*holder_info(self.path))
        return self._now

    @property
    def last_holder(self) -> StandbyInfo:
        """The last process found scheduling, dead or alive: the one a takeover follows."""
        return self._known

    def _found(self, pid: int | None, role: str | None) -> StandbyInfo:
        # The lock file still names a holder that died: nobody holds the file just now.
        if pid is not None and not _alive(pid):
            pid, role = None, None
        return StandbyInfo(self.path, pid, role)

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._wait(), name="jobconsole:standby")

    def stop(self) -> asyncio.Task[None] | None:
        """Stop trying; returns the cancelled task (await it for a try under way to end)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    async def _wait(self) -> None:
        import asyncio

        pid = os.getpid()
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            if os.getpid() != pid:
                return  # a forked copy of this loop never takes over
            store = await self._attempt()
            if store is not None:
                self._task = None
                self._take_over(store)
                return

    async def _attempt(self) -> Store | None:
        """One try at the hold, in a thread: the store, opened and held, or None."""
        import asyncio

        from jobs.core.store import Store

        future: concurrent.futures.Future[Store | tuple[int | None, str | None]]
        future = concurrent.futures.Future()

        def attempt() -> None:
            try:
                result: Store | tuple[int | None, str | None] = Store.open_path(
                    self.path, role=self._role
                )
            except StateLockedError:
                result = holder_info(self.path)
            except BaseException as exc:
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(exc)
                return
            try:
                future.set_result(result)
            except concurrent.futures.InvalidStateError:  # stopped meanwhile
                _close_if_store(result)

        threading.Thread(target=attempt, name="jobconsole-standby", daemon=True).start()
        try:
            result = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.add_done_callback(_close_if_opened)
            raise
        except StateError as exc:
            message = f"standing by, but state file {self.path} cannot be opened: {exc}"
            if message != self._last_error:  # said once, until it changes
                self._last_error = message
                self._report(message)
            return None
        if isinstance(result, tuple):
            self._last_error = None
            self._now = self._found(*result)
            if self._now.holder_pid is not None:
                self._known = self._now
            return None
        return result

    def executions(self, job_id: str | None, limit: int) -> list[Execution]:
        """What the process that schedules recorded, read alongside it (as ``jobconsole
        history`` does); none while the file cannot be read."""
        from jobs.core.store import Store

        try:
            reader = Store.open_path(self.path, read_only=True)
        except StateError:
            return []
        try:
            return reader.executions(job_id=job_id, limit=limit)
        finally:
            reader.close()

    def refusal(self, action: str) -> str:
        from jobs.core.control.paths import ControlPathError, socket_path

        try:
            where = f": its control API is at {socket_path(self.path)}"
        except (ControlPathError, OSError):
            where = ""
        return (
            f"cannot {action}: this process (pid {os.getpid()}) stands by and schedules "
            f"nothing; {self.info.holder} schedules from state file {self.path}. Act "
            f"through that process (a console attaches to it{where})"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: alive
        pass
    return True


def _close_if_store(result: object) -> None:
    from jobs.core.store import Store

    if isinstance(result, Store):
        result.close()


def _close_if_opened(future: concurrent.futures.Future[object]) -> None:
    if not future.cancelled() and future.exception() is None:
        _close_if_store(future.result())
