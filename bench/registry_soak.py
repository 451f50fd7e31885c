"""A registry of 500 busy jobs for ``bench/soak.py``: every one fires each minute and runs
for up to 50 s, so starts come in a burst at the minute and ends all through it.

Use it with ``JOBCONSOLE_REGISTRY=bench.registry_soak`` (and the checkout on PYTHONPATH).
A quarter are plain defs (threads), a tenth fail with a traceback.
"""

from __future__ import annotations

from bench.jobfuncs import soak_async, soak_failing, soak_sync

COUNT = 500


def _func(index: int):  # type: ignore[no-untyped-def]
    if index % 10 == 9:
        return soak_failing
    return soak_sync if index % 4 == 1 else soak_async


REGISTERED_JOBS = [
    {"job_id": f"soak{index:03d}", "func": _func(index), "cron_expression": "* * * * *"}
    for index in range(COUNT)
]
