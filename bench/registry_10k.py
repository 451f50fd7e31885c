"""A registry of 10,000 jobs with varied, valid cron expressions, for the benchmarks.

Use it with ``JOBCONSOLE_REGISTRY=bench.registry_10k`` (and the checkout on PYTHONPATH).
Jobs alternate between an async and a plain trivial function. The expressions are drawn
from a fixed seed over common crontab shapes (every N minutes, hourly at a minute, daily,
weekdays, monthly, lists and ranges), so the set is the same on every run.

``JOBCONSOLE_BENCH_FAR=1`` gives every job a time on 29 February instead (varied minute
and hour), so none fires for years: the idle-CPU measurement needs jobs that wait.
"""

from __future__ import annotations

import os
import random

from bench.jobfuncs import tick_async, tick_sync

#: ``JOBCONSOLE_BENCH_COUNT`` scales it (``bench/big.py`` runs it at 100,000).
COUNT = int(os.environ.get("JOBCONSOLE_BENCH_COUNT") or 10_000)
FAR = os.environ.get("JOBCONSOLE_BENCH_FAR", "") not in ("", "0")


def _expression(rng: random.Random) -> str:
    m, h = rng.randrange(60), rng.randrange(24)
    shape = rng.randrange(12)
    if shape == 0:
        return f"*/{rng.choice([5, 10, 15, 20, 30])} * * * *"
    if shape == 1:
        return f"{m} * * * *"
    if shape == 2:
        return f"{m} {h} * * *"
    if shape == 3:
        return f"{m} {h} * * 1-5"
    if shape == 4:
        return f"{m} {h} {rng.randrange(1, 29)} * *"
    if shape == 5:
        return f"{m} */{rng.choice([2, 3, 4, 6, 8, 12])} * * *"
    if shape == 6:
        return f"{m},{(m + 30) % 60} {h}-{min(23, h + rng.randrange(1, 8))} * * *"
    if shape == 7:
        return f"{m} {h} * * {rng.choice(['0', '6', '0,6', 'mon', 'fri', 'sat,sun'])}"
    if shape == 8:
        return f"{m} {h} 1 {rng.choice(['*', '*/3', '1,7', 'jan-jun'])} *"
    if shape == 9:
        return rng.choice(["@hourly", "@daily", "@weekly", "@monthly", "@yearly"])
    if shape == 10:
        return f"{m} {h} L * *"
    return f"{m} {h} * * {rng.randrange(7)}#{rng.randrange(1, 5)}"


def _entries() -> list[dict[str, object]]:
    rng = random.Random(20261129)
    entries: list[dict[str, object]] = []
    for index in range(COUNT):
        expression = f"{rng.randrange(60)} {rng.randrange(24)} 29 2 *" if FAR else _expression(rng)
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
