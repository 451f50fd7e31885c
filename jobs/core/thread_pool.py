"""The threads plain-def jobs run in: reused, bounded, and never held up by a stuck job.

A new thread per execution was half of a burst's time on the loop (10,000 plain defs due
in one second), so worker threads are reused: up to ``POOL_SIZE`` *members* wait for work.
A thread cannot be stopped, so a pool could fill with jobs that never return and starve
the rest; here a job never waits on one:

- a run its runner gives up on (past its timeout, or cancelled at shutdown) leaves the
  pool with its thread: the thread goes on with it, unowned, and ends with it, as an
  abandoned thread did before the pool; a new member takes its place;
- while work waits, the loop looks every ``PATIENCE_SECONDS``: a member busy with one
  job that long leaves the pool the same way and a new member takes its place, and when
  every member had gone (all stuck), up to ``3 * POOL_SIZE`` more threads start at once,
  each serving what waits until nothing does and then ending.

Threads are daemons (a job that never returns must not keep the process from exiting);
idle members wait without a timeout, so at most ``POOL_SIZE`` idle threads outlive a
burst, shared by every service in the process, until one shuts down (``retire_idle``).
Each call runs in a copy of its execution's context, so output capture stays per
execution; ``threading.local`` values a job sets may outlive its run, as in any pool.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import Any

#: Members of the pool: as many as ``concurrent.futures``' default thread pool.
POOL_SIZE = min(32, (os.cpu_count() or 1) + 4)
#: While work waits, a member busy with one job this long leaves the pool.
PATIENCE_SECONDS = 0.05

_WAITING, _RUNNING, _DONE, _DROPPED = range(4)
_names = itertools.count(1)


class ThreadRun:
    """One call handed to the pool; ``future`` (on the loop) settles with its outcome."""

    __slots__ = ("_state", "_worker", "began", "clock", "ctx", "func", "future", "loop", "name")

    def __init__(
        self,
        func: Callable[[], Any],
        name: str,
        clock: Callable[[], Any],
        ctx: Context,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.func = func
        self.name = name
        self.clock = clock
        self.began: Any = None  # by clock, when the call began in its thread
        self.ctx = ctx
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self._state = _WAITING
        self._worker: _Worker | None = None

    def leave(self) -> bool:
        """The runner gives up on this run: if it has not begun it never will; if it is
        running its thread leaves the pool (and ends with it). Returns whether its code
        is still running."""
        return _pool.give_up(self)


class _Worker:
    __slots__ = ("role", "since")

    def __init__(self, role: str) -> None:
        #: "member": waits for work; "extra": serves what waits, then ends; "gone": left
        #: the pool, ends with its job.
        self.role = role
        self.since: float | None = None  # when its current job began


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[ThreadRun] = deque()
        self._members: set[_Worker] = set()
        self._idle = 0  # members waiting for work and not yet woken
        self._look_on: asyncio.AbstractEventLoop | None = None
        # Outcomes to hand to each loop, in one wakeup per batch.
        self._settled: dict[asyncio.AbstractEventLoop, list[tuple[ThreadRun, bool, Any]]] = {}
        self._settled_lock = threading.Lock()

    def submit(self, run: ThreadRun) -> None:
        with self._lock:
            self._queue.append(run)
            if self._idle:
                self._idle -= 1
                self._wake.notify()
            elif len(self._members) < POOL_SIZE:
                self._start(member=True)
            else:
                self._look_soon(run.loop)

    def give_up(self, run: ThreadRun) -> bool:
        with self._lock:
            if run._state == _WAITING:
                run._state = _DROPPED
                return False
            worker = run._worker
            if run._state != _RUNNING or worker is None:
                return False
            self._leave(worker)
            return True

    def retire(self) -> None:
        with self._lock:
            for worker in self._members:
                worker.role = "gone"  # an idle one ends now, a busy one with its job
            self._members.clear()
            self._idle = 0
            self._wake.notify_all()
            self._look_on = None

    # ----------------------------------------------------------- under the lock

    def _start(self, member: bool) -> None:
        worker = _Worker("member" if member else "extra")
        if member:
            self._members.add(worker)
        name = f"jobconsole-worker-{next(_names)}"
        threading.Thread(target=self._serve, args=(worker,), name=name, daemon=True).start()

    def _leave(self, worker: _Worker) -> None:
        was_member = worker.role == "member"
        worker.role = "gone"
        if was_member:
            self._members.discard(worker)
            if self._queue:
                self._start(member=True)

    def _look_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._look_on is not loop:  # a look armed on a loop since closed never comes
            self._look_on = loop
            loop.call_later(PATIENCE_SECONDS, self._look, loop)

    # ------------------------------------------------------------- on the loop

    def _look(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._look_on is loop:
                self._look_on = None
            if not self._queue:
                return
            now = time.monotonic()
            since = now - PATIENCE_SECONDS
            stuck = [w for w in self._members if w.since is not None and w.since <= since]
            every = bool(stuck) and len(stuck) == len(self._members)
            for worker in stuck:
                worker.role = "gone"
                self._members.discard(worker)
            room = min(len(self._queue), POOL_SIZE - len(self._members))
            for _ in range(room):
                self._start(member=True)
            if every:
                for _ in range(min(len(self._queue) - room, 3 * POOL_SIZE)):
                    self._start(member=False)
            self._look_soon(loop)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._settled_lock:
            batch = self._settled.pop(loop, [])
        for run, ok, value in batch:
            future = run.future
            if not future.done():
                (future.set_result if ok else future.set_exception)(value)

    # --------------------------------------------------------- on a worker thread

    def _serve(self, worker: _Worker) -> None:
        thread = threading.current_thread()
        idle_name = thread.name
        while True:
            with self._lock:
                run = self._next(worker)
                if run is None:
                    return
            thread.name = run.name
            try:
                run.began = run.clock()
                outcome = (True, run.ctx.run(run.func))
            except BaseException as exc:
                outcome = (False, exc)
            with self._lock:
                run._state = _DONE
                worker.since = None
                gone = worker.role == "gone"
            self._settle(run, *outcome)
            del run, outcome  # an idle thread holds no execution's output or frames
            if gone:
                return
            thread.name = idle_name

    def _next(self, worker: _Worker) -> ThreadRun | None:
        """The next run for ``worker`` (waiting for one if it is a member); None: it ends."""
        while True:
            while not self._queue:
                if worker.role != "member":
                    return None
                self._idle += 1
                self._wake.wait()
            run = self._queue.popleft()
            if run._state == _WAITING:
                run._state = _RUNNING
                run._worker = worker
                worker.since = time.monotonic()
                return run
            del run  # dropped: not held while this thread waits

    def _settle(self, run: ThreadRun, ok: bool, value: Any) -> None:
        loop = run.loop
        with self._settled_lock:
            batch = self._settled.setdefault(loop, [])
            batch.append((run, ok, value))
            first = len(batch) == 1
        if first:
            try:
                loop.call_soon_threadsafe(self._hand_over, loop)
            except RuntimeError:  # the loop is closed: nobody waits for these any more
                with self._settled_lock:
                    self._settled.pop(loop, None)


_pool = _Pool()


def _after_fork_in_child() -> None:
    """A forked child has none of the pool's threads (and maybe a held lock): start anew."""
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_after_fork_in_child)


def retire_idle() -> None:
    """Let the members go: idle ones end now, busy ones once their job returns; later
    work starts new ones."""
    _pool.retire()


def run(func: Callable[[], Any], name: str, clock: Callable[[], Any]) -> ThreadRun:
    """Run ``func`` in a worker thread named ``name`` while it runs, in a copy of this
    context (so its output is captured); ``.began`` is ``clock()`` read there first, when
    the job's code really begins. Await ``.future``; ``.leave()`` when giving up on it."""
    from contextvars import copy_context

    thread_run = ThreadRun(func, name, clock, copy_context(), asyncio.get_running_loop())
    _pool.submit(thread_run)
    return thread_run
