"""Misbehaving job functions for issue 6, importable as ``tests.jobfuncs_misbehaving:name``.

They are module-level so that ``isolation="process"`` children can import them. Jobs
that must talk to the test find what they need in ``CONTROL`` (the service to change
their own entry in) or take it as an argument through ``functools.partial`` (a gate to
wait on). Jobs that would otherwise never end (a thread, a coroutine that swallows its
cancellation) watch ``RELEASE``, which the tests open when done, and give up after
``THREAD_CAP_SECONDS`` anyway, so none outlives its test for long.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import resource
import sys
import threading
import time
from typing import Any

#: Opened by the tests when a "never-ending" job may finish; every wait is capped.
RELEASE = threading.Event()
#: The longest any "never-ending" job waits for RELEASE, in seconds.
THREAD_CAP_SECONDS = 30.0

#: What the timing jobs saw, keyed by a name the test chooses (same process only).
SEEN: dict[str, Any] = {}


# ------------------------------------------------------------------- plain failures


async def raises() -> None:
    print("about to fail")
    raise ValueError("the partner API said no")


async def async_system_exit() -> None:
    sys.exit(3)


def plain_system_exit() -> None:
    sys.exit(3)


async def async_keyboard_interrupt() -> None:
    raise KeyboardInterrupt("pressed inside the job")


def plain_keyboard_interrupt() -> None:
    raise KeyboardInterrupt("pressed inside the job")


async def quick() -> None:
    print("quick ran")


def plain_quick() -> None:
    print("plain quick ran")


# ------------------------------------------------------------------------- timing


async def blocks_the_loop() -> None:
    """An ``async def`` doing blocking work on the event loop."""
    SEEN["blocker_start"] = time.monotonic()
    time.sleep(2)
    SEEN["blocker_end"] = time.monotonic()


async def notes_when_it_runs() -> None:
    SEEN.setdefault("async_runs", []).append(time.monotonic())


def ticks_in_a_thread() -> None:
    """A plain def that notes the time every 20 ms for 2.6 s."""
    ticks: list[float] = SEEN.setdefault("thread_ticks", [])
    end = time.monotonic() + 2.6
    while time.monotonic() < end:
        ticks.append(time.monotonic())
        time.sleep(0.02)


# ------------------------------------------------------------------ never returns


async def never_returns_async() -> None:
    print("waiting forever")
    await asyncio.Event().wait()


def never_returns_plain() -> None:
    """Stands for a thread that never returns; the test opens RELEASE to let it go."""
    print("blocking in a thread")
    RELEASE.wait(THREAD_CAP_SECONDS)


async def ignores_cancellation() -> None:
    """Never returns, not even when cancelled: it swallows every CancelledError."""
    print("ignoring cancellation")
    deadline = time.monotonic() + THREAD_CAP_SECONDS
    while time.monotonic() < deadline and not RELEASE.is_set():
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            SEEN["cancelled"] = SEEN.get("cancelled", 0) + 1


# ------------------------------------------------------------------------ flooding


def prints_50_mb() -> None:
    """50 MiB through print, one KiB at a time (the job itself holds only one line)."""
    line = "x" * 1023
    for _ in range(50 * 1024):
        print(line)


FLOOD_LOGGER = logging.getLogger("tests.flood")


def logs_in_a_tight_loop() -> None:
    """Logs as fast as it can for one second; notes how many records it made."""
    count = 0
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        for _ in range(100):
            FLOOD_LOGGER.warning("flood record %d", count)
            count += 1
    SEEN["flood_count"] = count


# ----------------------------------------------------------- changes its own job


#: Set by the test: the service a job changes its own entry in, its id and expression.
CONTROL: dict[str, Any] = {}


async def removes_itself() -> None:
    CONTROL["service"].remove_job(CONTROL["job_id"])
    await asyncio.sleep(0.05)  # still running after its job is gone
    print("still running after removal")


async def reschedules_itself() -> None:
    CONTROL["service"].reschedule_job(CONTROL["job_id"], CONTROL["expression"])
    await asyncio.sleep(0.05)
    print("still running after reschedule")


async def waits_for(gate: asyncio.Event) -> None:
    await asyncio.wait_for(gate.wait(), 10)


# ------------------------------------------------------ for isolation="process"


def exits_7() -> None:
    print("exiting with 7", flush=True)
    os._exit(7)


def segfaults() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the working tree
    print("about to dereference NULL", flush=True)
    ctypes.string_at(0)


#: The most the memory blow-up may allocate beyond what the child already maps.
BLOW_UP_CAP_BYTES = 200 * 1024 * 1024


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def allocates_until_memory_error() -> None:
    """Allocates 10 MiB blocks until the address-space limit set here says no."""
    limit = _mapped_bytes() + BLOW_UP_CAP_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print("allocating", flush=True)
    blocks = []
    while True:
        blocks.append(b"x" * (10 * 1024 * 1024))


def raises_in_child() -> None:
    print("hello from the child", flush=True)
    raise ValueError("bad row 42 in the child")


def prints_in_child() -> None:
    print("hello from the child")
    print("to stderr too", file=sys.stderr)


def prints_pid_and_sleeps() -> None:
    print(f"pid={os.getpid()}", flush=True)
    time.sleep(120)
