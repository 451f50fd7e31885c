"""The baseline of ``big.py``: bare APScheduler adding the registry's jobs one by one.

Run by ``big.py`` as ``python bench/_aps_child.py``, with ``JOBCONSOLE_BENCH_COUNT`` set:
imports the same registry module (``bench/registry_10k.py``), starts an AsyncIOScheduler
with its own MemoryJobStore and adds every job with its own ``CronTrigger``, then prints
"ready". Nothing of jobconsole is imported. The expressions are written in APScheduler's
syntax (``L`` as ``last``, ``1#2`` as ``2nd mon``); its Monday is 0, which changes when
they fire but not what adding them costs.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_NTH = {"1": "1st", "2": "2nd", "3": "3rd", "4": "4th", "5": "5th"}


def aps_fields(expression: str) -> dict[str, str]:
    minute, hour, day, month, weekday = _MACROS.get(expression, expression).split()
    if day == "L":
        day = "last"
    if "#" in weekday:
        which, nth = weekday.split("#")
        day, weekday = f"{_NTH[nth]} {_DAYS[int(which)]}", "*"
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": weekday}


async def main() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    from bench.registry_10k import REGISTERED_JOBS

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    for entry in REGISTERED_JOBS:
        fields = aps_fields(str(entry["cron_expression"]))
        scheduler.add_job(
            entry["func"], CronTrigger(timezone="UTC", **fields), id=str(entry["job_id"])
        )
    print("ready", flush=True)
    scheduler.shutdown(wait=False)


if __name__ == "__main__":
    asyncio.run(main())
