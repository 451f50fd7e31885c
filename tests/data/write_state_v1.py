"""Writes ``state-v1.sqlite3``: a state file of the first schema, as jobconsole wrote it
before job options had a column of their own (commit 72855d7). Kept with the file it made,
which ``tests/test_state_files.py`` upgrades; run it only with that commit's code:

    mkdir /tmp/v1 && git archive 72855d7 | tar -x -C /tmp/v1
    PYTHONPATH=/tmp/v1 python tests/data/write_state_v1.py tests/data/state-v1.sqlite3

What it holds: ``edited``, a registry job whose expression and timeout were changed in
the console and which was paused; ``removed``, a registry job removed in the console;
``off``, a disabled registry job with a description; ``console``, a job registered in the
console with a zone, a description, a timeout and a child process of its own; and a run
each of ``edited``, ``console`` and ``failing`` (a registry job since removed, whose run
failed).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store

YEARLY = "0 0 1 1 *"


def code_jobs(service: SchedulerService) -> None:
    service.register_job("edited", "tests.jobfuncs:quick", "0 * * * *", timeout_seconds=10)
    service.register_job("removed", "tests.jobfuncs:quick", YEARLY)
    service.register_job(
        "off", "tests.jobfuncs:plain", YEARLY, enabled=False, description="switched off"
    )


async def run(service: SchedulerService, job_id: str) -> None:
    done = asyncio.Event()
    started = service.run_job_now(job_id)

    def on_event(event) -> None:
        execution = event.execution
        if execution is not None and execution.id == started.id and execution.status.is_final:
            done.set()

    unsubscribe = service.subscribe(on_event)
    await asyncio.wait_for(done.wait(), 20)
    unsubscribe()


async def main(path: Path) -> None:
    settings = Settings(timezone="UTC", state_path=path)
    service = SchedulerService(settings, store=Store.open(settings))
    code_jobs(service)
    service.register_job("failing", "tests.jobfuncs:boom", YEARLY)
    service.start()
    service.reschedule_job("edited", "*/5 * * * *")
    service.set_timeout("edited", 3)
    service.pause_job("edited")
    service.remove_job("removed")
    service.register_job(
        "console",
        "tests.jobfuncs:plain",
        YEARLY,
        timezone="Europe/Paris",
        description="from the console",
        timeout_seconds=30,
        isolation="process",
    )
    await run(service, "edited")
    await run(service, "console")
    await run(service, "failing")
    service.remove_job("failing")  # a registry job removed: its run stays in the history
    await service.shutdown()


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.unlink(missing_ok=True)
    asyncio.run(main(target))
