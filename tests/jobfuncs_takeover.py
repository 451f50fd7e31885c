"""Jobs that try to take the capture or the loop away from the others (issue 11, item 7),
importable as ``tests.jobfuncs_takeover:name``.

Each does the one hostile thing it is named for and then returns, so that the tests can
check what the next job, or the scheduler itself, gets afterwards.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import sys
import time
from typing import Any

#: What the jobs saw, keyed by a name the test chooses.
SEEN: dict[str, Any] = {}
#: Set by the test: the loop a thread job reaches into.
CONTROL: dict[str, Any] = {}


def swaps_stdout() -> None:
    """What a script does to silence itself, or to print "to the terminal" for sure."""
    print("before the swap")
    sys.stdout = sys.__stdout__
    sys.stderr = sys.__stderr__


async def swaps_stdout_for_a_buffer() -> None:
    sys.stdout = io.StringIO()


def prints_both() -> None:
    print("to stdout")
    print("to stderr", file=sys.stderr)


async def stops_the_loop() -> None:
    print("stopping the loop")
    asyncio.get_event_loop().stop()
    await asyncio.sleep(0.05)
    print("still here")


def stops_the_loop_from_its_thread() -> None:
    loop: asyncio.AbstractEventLoop = CONTROL["loop"]
    loop.call_soon_threadsafe(loop.stop)
    time.sleep(0.05)


def holds_the_gil_for_2s() -> None:
    """A C call that never releases the GIL (``PyDLL`` keeps it, unlike ``CDLL``)."""
    SEEN["stall_start"] = time.monotonic()
    ctypes.pythonapi.usleep(2_000_000)
    SEEN["stall_end"] = time.monotonic()


async def notes_its_start() -> None:
    SEEN.setdefault("started", []).append(time.time())


def notes_its_start_in_a_thread() -> None:
    SEEN.setdefault("started", []).append(time.time())


async def blocks_the_loop_for_2s() -> None:
    SEEN["stall_start"] = time.monotonic()
    time.sleep(2)
    SEEN["stall_end"] = time.monotonic()
