"""A burst: many jobs due in the same second (issue 15). Every job's code begins before
the runs' records are stored and announced, and nothing a user reads is lost or out of
order for it.

Real parts: the real service over APScheduler, which fires the jobs itself (each made
due through its own ``modify_job``), a real event loop and, where it matters, a real
state file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs import EventKind, ExecutionStatus, JobState, Trigger
from jobs.core import runner
from jobs.core.records import SchedulerEvent
from jobs.core.service import SchedulerService
from tests.jobfuncs_core import until

YEARLY = "0 0 1 1 *"
JOBS = 40

#: What the jobs of a test see: set by the test, read by the job functions.
seen: dict[str, Any] = {}


def make_all_due(service: SchedulerService, job_ids: list[str]) -> None:
    """Every job due at the same instant, fired by APScheduler in one look."""
    assert service._scheduler is not None
    when = datetime.now(UTC)
    for job_id in job_ids:
        service._scheduler.modify_job(job_id, next_run_time=when)
    service._scheduler.wakeup()


def listen(service: SchedulerService) -> list[SchedulerEvent]:
    heard: list[SchedulerEvent] = []
    service.subscribe(heard.append)
    return heard


async def notes_what_was_heard() -> None:
    """Notes how many execution events had been announced when its code began."""
    heard: list[SchedulerEvent] = seen["heard"]
    seen["at_start"].append(sum(1 for e in heard if e.execution is not None))


async def test_every_job_of_a_burst_begins_before_any_run_is_announced(
    service: SchedulerService,
) -> None:
    ids = [f"burst{n:02d}" for n in range(JOBS)]
    for job_id in ids:
        service.register_job(job_id, notes_what_was_heard, YEARLY)
    service.start()
    heard = listen(service)
    seen.update(heard=heard, at_start=[])

    make_all_due(service, ids)
    await until(lambda: sum(1 for e in heard if e.kind is EventKind.EXECUTION_SUCCEEDED) == JOBS)

    assert seen["at_start"] == [0] * JOBS  # none waited for another run's bookkeeping
    for job_id in ids:
        started, ended = [e for e in heard if e.job_id == job_id]
        assert (started.kind, ended.kind) == (
            EventKind.EXECUTION_STARTED,
            EventKind.EXECUTION_SUCCEEDED,
        )
        assert started.execution is not None and ended.execution is not None
        assert started.execution.id == ended.execution.id
        assert started.execution.trigger is Trigger.SCHEDULE
        # Each event's snapshot is the job as it stood then, not as it stands later.
        assert started.job is not None and ended.job is not None
        assert (started.job.state, started.job.run_count) == (JobState.RUNNING, 0)
        assert (ended.job.state, ended.job.run_count) == (JobState.SCHEDULED, 1)
        assert ended.job.last_status is ExecutionStatus.SUCCEEDED
        # The started event already shows the next run, not the one that just began.
        assert started.job.next_run_time is not None
        assert started.job.next_run_time > started.execution.scheduled_time  # type: ignore[operator]
        assert started.job.next_run_time == ended.job.next_run_time
        assert service.get_job(job_id).run_count == 1
        assert [e.id for e in service.recent_executions(job_id)] == [ended.execution.id]


async def quick() -> None:
    pass


async def test_the_loop_goes_on_between_parts_of_a_bursts_bookkeeping(
    service: SchedulerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "SETTLE_CHUNK", 10)  # 80 records: 8 parts
    ids = [f"burst{n:02d}" for n in range(JOBS)]
    for job_id in ids:
        service.register_job(job_id, quick, YEARLY)
    service.start()
    heard = listen(service)
    loop = asyncio.get_running_loop()
    heard_at_each_turn: list[int] = []

    def each_turn() -> None:
        heard_at_each_turn.append(len(heard))
        if len(heard) < 2 * JOBS:
            loop.call_soon(each_turn)

    make_all_due(service, ids)
    loop.call_soon(each_turn)
    await until(lambda: len(heard) == 2 * JOBS)

    between = {n for n in heard_at_each_turn if 0 < n < 2 * JOBS}
    assert len(between) >= 3, heard_at_each_turn  # other callbacks ran between the parts
    assert [e.kind for e in heard[:JOBS]] == [EventKind.EXECUTION_STARTED] * JOBS
    assert [e.kind for e in heard[JOBS:]] == [EventKind.EXECUTION_SUCCEEDED] * JOBS


async def runs_the_first_again() -> None:
    """Runs after ``first`` in the same turn of the loop: ``first`` has just ended."""
    service: SchedulerService = seen["service"]
    seen["again"] = service.run_job_now("first")


async def test_a_run_started_right_after_the_jobs_last_one_ended_is_not_skipped(
    service: SchedulerService,
) -> None:
    service.register_job("first", quick, YEARLY)
    service.register_job("second", runs_the_first_again, YEARLY)
    service.start()
    heard = listen(service)
    seen.update(service=service)

    make_all_due(service, ["first", "second"])  # fired in that order: ties go by id
    await until(lambda: "again" in seen)
    again = seen["again"]

    assert again.status is ExecutionStatus.RUNNING, again.error
    assert again.trigger is Trigger.MANUAL
    await until(lambda: service.get_job("first").run_count == 2)
    firsts = [e.execution for e in heard if e.job_id == "first" and e.execution is not None]
    assert [(x.id, x.status) for x in firsts] == [
        (firsts[0].id, ExecutionStatus.RUNNING),
        (firsts[0].id, ExecutionStatus.SUCCEEDED),
        (again.id, ExecutionStatus.RUNNING),
        (again.id, ExecutionStatus.SUCCEEDED),
    ]


async def stops_the_scheduler() -> None:
    """The first of a burst to run stops the scheduler: the others end in the same turn."""
    seen["stopping"] = seen["service"].shutdown(timeout=5)


async def test_runs_that_end_as_the_scheduler_stops_are_in_the_state_file(
    durable: Callable[..., SchedulerService], tmp_path: Path
) -> None:
    service = durable()
    ids = [f"burst{n:02d}" for n in range(JOBS)]
    service.register_job("a_stopper", stops_the_scheduler, YEARLY)  # fired first, by id
    for job_id in ids:
        service.register_job(job_id, quick, YEARLY)
    service.start()
    seen.update(service=service)

    make_all_due(service, ["a_stopper", *ids])
    await until(lambda: "stopping" in seen)
    await seen["stopping"]

    conn = sqlite3.connect(tmp_path / "state.sqlite3")
    try:
        rows = conn.execute("SELECT job_id, status FROM executions").fetchall()
    finally:
        conn.close()
    succeeded = ExecutionStatus.SUCCEEDED.value
    assert sorted(rows) == [(job_id, succeeded) for job_id in ["a_stopper", *ids]]


async def test_a_run_cancelled_before_it_began_does_not_hold_its_job(
    service: SchedulerService,
) -> None:
    service.register_job("once", quick, YEARLY)
    service.start()
    first = service.run_job_now("once")
    next(task for task in asyncio.all_tasks() if task.get_name().endswith(f"#{first.id}")).cancel()
    await asyncio.sleep(0)

    again = service.run_job_now("once")  # not "skipped: still running"
    assert again.status is ExecutionStatus.RUNNING, again.error
    await until(lambda: service.get_job("once").run_count == 2)
    ended = {e.id: e for e in service.recent_executions("once", limit=10)}
    assert ended[first.id].status is ExecutionStatus.CANCELLED
    assert ended[again.id].status is ExecutionStatus.SUCCEEDED
