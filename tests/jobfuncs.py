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
