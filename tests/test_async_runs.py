"""An async job's coroutine is stepped in its execution's own task (issue 15): what the
job does with cancellations of its own must stay its business.

Real parts: the real service over APScheduler, a real event loop, jobs run with run-now.
"""

from __future__ import annotations

import asyncio

from jobs import ExecutionStatus
from jobs.core.service import SchedulerService
from tests.test_misbehaving import assert_still_works, start

YEARLY = "0 0 1 1 *"


async def waits_with_a_timeout_of_its_own() -> None:
    """Gives up on a slow call after 50 ms, as a job guarding a network call would."""
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(5)
    except TimeoutError:
        print("gave up on the slow call")
    await asyncio.sleep(0.01)
    print("went on")


async def cancels_a_task_of_its_own() -> None:
    helper = asyncio.ensure_future(asyncio.sleep(5))
    await asyncio.sleep(0)
    helper.cancel()
    try:
        await helper
    except asyncio.CancelledError:
        print("helper cancelled")


async def test_a_job_timing_out_its_own_call_succeeds(service: SchedulerService) -> None:
    recorder = start(service)
    service.register_job("own_timeout", waits_with_a_timeout_of_its_own, YEARLY)

    done = await recorder.final(service.run_job_now("own_timeout"))

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output == "gave up on the slow call\nwent on\n"
    assert done.warnings == ()
    await assert_still_works(service, recorder)


async def test_a_job_cancelling_a_task_of_its_own_succeeds(service: SchedulerService) -> None:
    recorder = start(service)
    service.register_job("own_task", cancels_a_task_of_its_own, YEARLY, timeout_seconds=2)

    done = await recorder.final(service.run_job_now("own_task"))

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output == "helper cancelled\n"
    await assert_still_works(service, recorder)
