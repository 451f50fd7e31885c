"""Small job functions for the console tests, importable as ``tests.jobfuncs:name``."""

from __future__ import annotations

import asyncio


async def quick() -> None:
    """Finishes at once and says so, so its output shows in the detail view."""
    print("quick ran")


def plain() -> None:
    """A plain def: the service runs it in a worker thread."""
    print("plain ran")


async def boom() -> None:
    """Fails, so the console has a traceback to show."""
    raise RuntimeError("boom: the partner API said no")


async def slow() -> None:
    """Runs far longer than any test; quitting must cancel it and record so."""
    await asyncio.sleep(60)


def needs_argument(value: int) -> None:
    """Not job-shaped: it cannot be called without arguments."""


def chatty() -> None:
    """Fifty numbered lines, the last one very long."""
    for n in range(1, 50):
        print(f"line {n}")
    print("x" * 5000)


def fails_in_a_thread() -> None:
    """A plain def that fails two calls deep in its own code."""
    _parse_partner_reply("")


def _parse_partner_reply(reply: str) -> None:
    raise ValueError(f"empty reply {reply!r}")


async def fails_inside_the_library() -> None:
    """Calls back into jobconsole, which refuses: that frame is the job's business."""
    from jobs.core import funcs

    funcs.resolve("no_such_module_here:job")


def prints_a_thousand_lines() -> None:
    """More output than the detail view shows, with a needle on a few lines."""
    for n in range(1, 1001):
        print(f"line {n}" + ("  NEEDLE here" if n in (250, 500, 750) else ""))
    print("\x1b]0;pwned\x07 [b]not markup[/b] [/]")
    raise ValueError("after a thousand lines")


#: Set by a test to let ``prints_then_waits`` finish (it runs on the test's own loop).
RELEASE: list[asyncio.Event] = []


async def prints_then_waits() -> None:
    """Runs until the test releases it, so its output view opens on a live run."""
    print("before the wait")
    await RELEASE[-1].wait()
    print("after the wait")
