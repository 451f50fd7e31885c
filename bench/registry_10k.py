"""A registry of 10,000 jobs with varied, valid cron expressions, for the benchmarks.

Use it with ``JOBCONSOLE_REGISTRY=bench.registry_10k`` (and the checkout on PYTHONPATH).
Jobs alternate between an async and a plain trivial function. The expressions are drawn
from a fixed seed over common crontab shapes (every N minutes, hourly at a minute, daily,
weekdays, monthly, lists and ranges: ``bench/cron_shapes.py``), so the set is the same on
every run.

``JOBCONSOLE_BENCH_FAR=1`` gives every job a time on 29 February instead (varied minute
and hour), so none fires for years: the idle-CPU measurement needs jobs that wait.
"""

from __future__ import annotations

import os
import random

from bench import cron_shapes
from bench.jobfuncs import tick_async, tick_sync

#: ``JOBCONSOLE_BENCH_COUNT`` scales it (``bench/big.py`` runs it at 100,000).
COUNT = int(os.environ.get("JOBCONSOLE_BENCH_COUNT") or 10_000)
FAR = os.environ.get("JOBCONSOLE_BENCH_FAR", "") not in ("", "0")


def _entries() -> list[dict[str, object]]:
    rng = random.Random(20261129)
    entries: list[dict[str, object]] = []
    for index in range(COUNT):
        expression = (
            f"{rng.randrange(60)} {rng.randrange(24)} 29 2 *"
            if FAR
            else cron_shapes.expression(rng)
        )
        entries.append(
            {
                "job_id": f"job{index:05d}",
                "func": tick_async if index % 2 == 0 else tick_sync,
                "cron_expression": expression,
                "enabled": True,
            }
        )
    return entries


REGISTERED_JOBS = _entries()
