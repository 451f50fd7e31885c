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
