"""Trivial job functions for the benchmarks, importable as ``bench.jobfuncs:NAME``.

The ``ref_*`` ones are for APScheduler's reference run: they note when they started,
keyed by the job id they are given, since APScheduler records no start time itself.
"""

from __future__ import annotations

import time

#: job id -> start times (time.time()), filled by the ref_* functions.
STARTED: dict[str, list[float]] = {}


async def tick_async() -> None:
    """An async job that does nothing."""


def tick_sync() -> None:
    """A plain job that does nothing (it runs in a thread)."""


async def ref_async(job_id: str) -> None:
    STARTED.setdefault(job_id, []).append(time.time())


def ref_sync(job_id: str) -> None:
    STARTED.setdefault(job_id, []).append(time.time())


def _soak_seconds() -> float:
    import random

    return random.uniform(0.0, 50.0)


async def soak_async() -> None:
    """Busy for up to 50 s, printing as it goes: its end falls anywhere in the minute."""
    import asyncio

    print("soak: starting")
    await asyncio.sleep(_soak_seconds())
    print("soak: done")


def soak_sync() -> None:
    """The same in a thread."""
    print("soak: starting")
    time.sleep(_soak_seconds())
    print("soak: done")


async def soak_failing() -> None:
    """Fails after a while, with a traceback to store."""
    import asyncio

    await asyncio.sleep(_soak_seconds())
    raise RuntimeError("soak: failing on purpose")
