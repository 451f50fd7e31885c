"""SchedulerService edges: a job replaced while it runs, a library calling things before
``start()`` or after ``shutdown()``, and ``start()`` with thousands of jobs.

Real APScheduler, real event loop, real SQLite files in ``tmp_path``. Time is controlled,
never waited for: runs are made due through APScheduler's own API (``make_due``), and the
instant ``start()`` schedules from is pinned where a test needs a time already crossed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import jobs.core.persistence as persistence_module
import jobs.core.scheduling as scheduling_module
from jobs import EventKind, ExecutionStatus, JobState, SchedulerService, Trigger
from jobs.core.lifecycle import RunState
from tests import jobfuncs_core as jf
from tests.jobfuncs_core import EventLog, make_due

YEARLY = "0 0 1 1 *"  # fires once a year: no test ever crosses a fire time by accident
Factory = Callable[..., SchedulerService]


async def stop(service: SchedulerService) -> None:
    task = service.shutdown(timeout=0)
    if task is not None:
        await asyncio.wait_for(task, 5)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """``start()`` hands jobs to APScheduler four at a time: a few jobs show the chunking."""
    monkeypatch.setattr(scheduling_module, "SCHEDULE_CHUNK", 4, raising=False)
    return 4


# ------------------------------------------------------------ one instance per job id


async def test_a_job_replaced_while_it_runs_is_skipped_until_the_run_ends(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.short_async, YEARLY)
    service.start()
    events = EventLog(service)
    first = service.run_job_now("job")

    service.register_job("job", jf.ok_async, YEARLY, replace_existing=True)
    assert service.get_job("job").state is JobState.RUNNING
    again = service.run_job_now("job")
    assert again.status is ExecutionStatus.SKIPPED
    assert again.error == f"skipped: execution #{first.id} of job is still running"
    due = datetime.now(UTC).replace(microsecond=0)
    make_due(service, "job", due)
    skipped = (await events.wait_for(EventKind.EXECUTION_SKIPPED, "job", count=2)).execution
    assert skipped is not None and skipped.scheduled_time == due

    # The old run ends in the replacement's name: the id's counts, the new definition.
    ended = await events.wait_for(EventKind.EXECUTION_SUCCEEDED, "job")
    assert ended.execution is not None and ended.execution.id == first.id
    assert ended.job is not None
    assert ended.job.func_ref == "tests.jobfuncs_core:ok_async"
    assert (ended.job.state, ended.job.run_count) == (JobState.SCHEDULED, 1)
    assert len(events.of(EventKind.EXECUTION_STARTED)) == 1

    # Then the replacement runs as usual.
    service.run_job_now("job")
    done = await events.finished("job", count=2)
    assert (done.status, done.output) == (ExecutionStatus.SUCCEEDED, "ok_async ran\n")


async def test_a_job_removed_and_registered_again_while_it_runs_is_skipped(
    make: Factory,
) -> None:
    service = make()
    service.register_job("job", jf.long_async, YEARLY)
    service.start()
    events = EventLog(service)
    first = service.run_job_now("job")
    service.remove_job("job")
    service.register_job("job", jf.ok_async, YEARLY)

    assert service.get_job("job").state is JobState.RUNNING
    again = service.run_job_now("job")
    assert (again.status, again.trigger) == (ExecutionStatus.SKIPPED, Trigger.MANUAL)
    assert again.error == f"skipped: execution #{first.id} of job is still running"
    make_due(service, "job")
    await events.wait_for(EventKind.EXECUTION_SKIPPED, "job", count=2)
    assert len(events.of(EventKind.EXECUTION_STARTED)) == 1


async def test_a_replaced_job_keeps_its_counts_last_run_and_history(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.fails, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("job")
    failed = await events.finished("job")

    replaced = service.register_job("job", jf.ok_async, "@daily", replace_existing=True)
    assert (replaced.run_count, replaced.failure_count) == (1, 1)
    assert (replaced.last_status, replaced.last_run_time) == (
        ExecutionStatus.FAILED,
        failed.started_at,
    )
    service.run_job_now("job")
    await events.finished("job", count=2)
    job = service.get_job("job")
    assert (job.run_count, job.failure_count, job.last_status) == (
        2,
        1,
        ExecutionStatus.SUCCEEDED,
    )
    assert [e.status for e in service.recent_executions("job")] == [
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
    ]


# ------------------------------------------------------------ before start(), after shutdown()


async def test_run_job_now_before_start_on_a_state_file_is_not_taken_for_interrupted(
    durable: Factory,
) -> None:
    service = durable()
    service.register_job("job", jf.short_async, YEARLY)
    events = EventLog(service)
    started = service.run_job_now("job")
    assert started.status is ExecutionStatus.RUNNING
    service.store.flush()  # type: ignore[union-attr]  # its start is committed, as it soon is
    service.start()  # while the run goes on
    done = await events.finished("job")

    assert (done.id, done.status) == (started.id, ExecutionStatus.SUCCEEDED)
    assert not events.of(EventKind.EXECUTION_INTERRUPTED)
    assert not [e.message for e in events.of(EventKind.WARNING)]
    assert service.get_job("job").run_count == 1
    await stop(service)

    again = durable()
    again.register_job("job", jf.short_async, YEARLY)
    again.start()
    assert again.get_job("job").run_count == 1
    assert [(e.id, e.status) for e in again.recent_executions("job")] == [
        (started.id, ExecutionStatus.SUCCEEDED)
    ]


async def test_a_pause_before_start_survives_the_state_file_merge(durable: Factory) -> None:
    first = durable()
    first.register_job("job", jf.ok_async, YEARLY)
    first.start()  # the state file now holds the job, not paused
    await stop(first)

    service = durable()
    service.register_job("job", jf.ok_async, YEARLY)
    events = EventLog(service)
    assert service.pause_job("job").state is JobState.PAUSED
    service.reschedule_job("job", "0 6 1 1 *")
    service.start()
    job = service.get_job("job")
    assert (job.state, job.next_run_time, job.cron_expression) == (
        JobState.PAUSED,
        None,
        "0 6 1 1 *",
    )
    assert not events.of(EventKind.WARNING)
    await stop(service)

    # And it was written down: the next start finds it paused too.
    again = durable()
    again.register_job("job", jf.ok_async, YEARLY)
    again.start()
    job = again.get_job("job")
    assert (job.state, job.cron_expression) == (JobState.PAUSED, "0 6 1 1 *")


async def test_start_after_shutdown_with_a_state_file_is_refused_and_changes_nothing(
    durable: Factory,
) -> None:
    service = durable()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    await stop(service)
    streams = (sys.stdout, sys.stderr)
    events = EventLog(service)

    with pytest.raises(RuntimeError, match=r"cannot be restarted after shutdown\(\).*new one"):
        service.start()
    assert not service.is_running
    assert (sys.stdout, sys.stderr) == streams  # output capture was not installed again
    assert events.events == []
    assert service.get_job("job").next_run_time is None


async def test_start_while_shutdown_is_in_progress_is_refused(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.short_async, YEARLY)
    service.start()
    service.run_job_now("job")
    task = service.shutdown(timeout=3)
    with pytest.raises(RuntimeError, match=r"shutdown\(\) is in progress"):
        service.start()
    assert task is not None
    await asyncio.wait_for(task, 5)
    service.start()  # without a state file, once stopped, it can start again
    assert service.is_running


# ------------------------------------------------------------ start() with many jobs


async def test_start_schedules_many_jobs_in_chunks_and_the_loop_answers_meanwhile(
    make: Factory, small_chunks: int
) -> None:
    count = 5 * small_chunks + 2
    service = make()
    for n in range(count):
        service.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
    events = EventLog(service)
    answered: list[int] = []

    async def meanwhile() -> None:
        scheduled = sum(j.next_run_time is not None for j in service.get_jobs())
        answered.append(scheduled)

    service.start()
    assert service.is_running
    assert sum(j.next_run_time is not None for j in service.get_jobs()) == small_chunks
    assert not events.of(EventKind.SCHEDULER_STARTED)
    probe = asyncio.get_running_loop().create_task(meanwhile())

    started = await events.wait_for(EventKind.SCHEDULER_STARTED)
    assert started.message == "scheduler running in UTC"
    await probe
    assert answered and answered[0] < count, "the loop did not answer until all were scheduled"
    jobs = service.get_jobs()
    assert all(j.next_run_time == jobs[0].next_run_time is not None for j in jobs)
    # One event for the whole start, not one per job scheduled after start() returned.
    assert events.kinds() == [EventKind.SCHEDULER_STARTED]


async def test_jobs_scheduled_after_start_fire_for_a_time_crossed_meanwhile(
    make: Factory, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run of every job counts from the instant start() was called: here that
    instant is pinned just before the last minute boundary, as if scheduling all the
    jobs had taken until after it."""
    boundary = datetime.now(UTC).replace(second=0, microsecond=0)
    monkeypatch.setattr(
        scheduling_module,
        "_scheduling_now",
        lambda tz: (boundary - timedelta(seconds=0.5)).astimezone(tz),
        raising=False,
    )
    count = 3 * small_chunks + 1
    service = make(misfire_grace_seconds=300)
    daily = f"{boundary.minute} {boundary.hour} * * *"  # no other time to cross meanwhile
    for n in range(count):
        service.register_job(f"job{n:03d}", jf.ok_async, daily)
    events = EventLog(service)
    service.start()

    await events.wait_for(EventKind.SCHEDULER_STARTED)
    for n in range(count):
        done = await events.finished(f"job{n:03d}")
        assert (done.status, done.scheduled_time, done.trigger) == (
            ExecutionStatus.SUCCEEDED,
            boundary,
            Trigger.SCHEDULE,
        )
    assert not events.of(EventKind.EXECUTION_MISSED)
    assert all(j.next_run_time == boundary + timedelta(days=1) for j in service.get_jobs())


async def test_changes_to_jobs_not_scheduled_yet_are_kept(make: Factory, small_chunks: int) -> None:
    service = make()
    for n in range(4 * small_chunks):
        service.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
    service.pause_job("job014")  # paused before start(): it stays unscheduled
    events = EventLog(service)
    service.start()
    last = f"job{4 * small_chunks - 1:03d}"
    service.pause_job(last)
    service.resume_job("job014")
    service.remove_job("job013")
    service.register_job("job012", jf.ok_plain, "@hourly", replace_existing=True)
    service.reschedule_job("job011", "@daily")
    await events.wait_for(EventKind.SCHEDULER_STARTED)

    jobs = {j.job_id: j for j in service.get_jobs()}
    assert "job013" not in jobs
    assert service._scheduler is not None and service._scheduler.get_job("job013") is None
    assert (jobs[last].state, jobs[last].next_run_time) == (JobState.PAUSED, None)
    assert jobs["job014"].state is JobState.SCHEDULED
    assert jobs["job014"].next_run_time is not None
    hourly, daily = jobs["job012"].next_run_time, jobs["job011"].next_run_time
    assert hourly is not None and (hourly.minute, hourly - datetime.now(UTC)) < (
        1,
        timedelta(hours=1),
    )
    assert jobs["job012"].func_ref == "tests.jobfuncs_core:ok_plain"
    assert daily is not None and (daily.hour, daily.minute) == (0, 0)
    assert len(jobs) == 4 * small_chunks - 1


async def test_shutdown_while_start_is_still_scheduling_stops_cleanly(
    make: Factory, small_chunks: int
) -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        service = make()
        for n in range(10 * small_chunks):
            service.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
        events = EventLog(service)
        service.start()
        await asyncio.sleep(0)  # a chunk after start() returned
        await asyncio.sleep(0)
        scheduled = sum(j.next_run_time is not None for j in service.get_jobs())
        await stop(service)
        await asyncio.sleep(0.05)

        assert not service.is_running
        assert small_chunks < scheduled < 9 * small_chunks
        assert events.kinds() == [EventKind.SCHEDULER_STOPPED]
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("jobconsole:")]
        assert errors == []

        service.start()  # no state file: it may start again, and schedules everything
        await events.wait_for(EventKind.SCHEDULER_STARTED)
        assert all(j.next_run_time is not None for j in service.get_jobs())
    finally:
        loop.set_exception_handler(None)


async def test_missed_runs_are_caught_up_for_every_job_however_late_it_is_scheduled(
    durable: Factory, small_chunks: int
) -> None:
    now = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)
    seed = durable()
    seed.store.mark_alive(now - timedelta(minutes=10))  # type: ignore[union-attr]
    seed.store.flush()  # type: ignore[union-attr]
    seed.close()

    service = durable(clock=lambda: now, misfire_grace_seconds=10)
    count = 3 * small_chunks + 1
    for n in range(count):
        service.register_job(f"job{n:03d}", jf.ok_async, "* * * * *")
    events = EventLog(service)
    service.start()
    await events.wait_for(EventKind.SCHEDULER_STARTED)

    missed = {e.job_id: e.execution for e in events.of(EventKind.EXECUTION_MISSED)}
    assert sorted(missed) == [f"job{n:03d}" for n in range(count)]
    assert all(e is not None and "missed 10 run(s)" in (e.error or "") for e in missed.values())


async def test_a_job_removed_while_the_merged_jobs_are_written_back_stays_removed(
    durable: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first start writes every job's row after the start, a slice per loop iteration: a
    job removed before its slice came must not be written back as it was."""
    monkeypatch.setattr(persistence_module, "SAVE_SLICE", 2, raising=False)
    service = durable()
    for n in range(10):
        service.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
    service.start()  # every job is scheduled already; the rows are not written yet
    service.remove_job("job009")
    service.pause_job("job008")
    await asyncio.sleep(0)
    await stop(service)

    again = durable()
    for n in range(10):
        again.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
    again.start()
    try:
        assert not again.has_job("job009")
        assert again.get_job("job008").state is JobState.PAUSED
        assert again.get_job("job007").state is JobState.SCHEDULED
    finally:
        await stop(again)


async def test_registering_after_a_change_before_start_is_refused_by_name(
    durable: Factory,
) -> None:
    first = durable()
    first.register_job("a", jf.ok_async, YEARLY)
    first.register_job("b", jf.ok_async, YEARLY)
    first.start()
    first.pause_job("b")  # the state file holds b paused
    await stop(first)

    service = durable()
    service.register_job("a", jf.ok_async, YEARLY)
    service.pause_job("a")  # loads the state file
    with pytest.raises(RuntimeError, match=r"register_job\('b'\) came after the state file"):
        service.register_job("b", jf.ok_async, YEARLY)
    service.start()
    assert service.get_job("a").state is JobState.PAUSED
    assert service.register_job("c", jf.ok_async, YEARLY).source == "runtime"  # now it may


# ------------------------------------------------------------------ the lifecycle


async def test_the_run_state_follows_the_service_through_its_life(
    make: Factory, small_chunks: int
) -> None:
    service = make()
    for n in range(2 * small_chunks):
        service.register_job(f"job{n:03d}", jf.ok_async, YEARLY)
    events = EventLog(service)
    assert service.run_state is RunState.CREATED

    service.start()
    assert service.run_state is RunState.STARTING and service.is_running
    await events.wait_for(EventKind.SCHEDULER_STARTED)
    assert service.run_state is RunState.STARTED

    task = service.shutdown(timeout=0)
    assert service.run_state is RunState.STOPPING and not service.is_running
    assert task is not None
    await task
    assert service.run_state is RunState.STOPPED


async def test_a_service_without_a_state_file_starts_again_one_with_it_does_not(
    make: Factory, durable: Factory
) -> None:
    for factory, restartable in ((make, True), (durable, False)):
        service = factory()
        service.register_job("job", jf.ok_async, YEARLY)
        service.start()
        await stop(service)
        if restartable:
            service.start()
            assert service.run_state is RunState.STARTED and service.is_running
            await stop(service)
        else:
            with pytest.raises(RuntimeError, match="cannot be restarted after shutdown"):
                service.start()
            assert service.run_state is RunState.STOPPED
