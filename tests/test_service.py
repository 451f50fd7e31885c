"""SchedulerService in a real running event loop, over the real AsyncIOScheduler.

Nothing is mocked. Executions are started with ``run_job_now`` or, for the scheduled
path, by making a job due now through APScheduler's own API (``make_due``), so no test
waits for the clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import (
    CronError,
    DuplicateJobError,
    EventKind,
    ExecutionStatus,
    InvalidJobError,
    JobNotFoundError,
    JobState,
    SchedulerService,
    Settings,
    TimezoneError,
    Trigger,
)
from jobs.core.bootstrap import RegistryError, build_service
from jobs.core.settings import KEYS
from jobs.core.store import Store
from tests import jobfuncs_core as jf
from tests.jobfuncs_core import EventLog, make_due

YEARLY = "0 0 1 1 *"  # fires once a year: no test ever crosses a fire time by accident
Factory = Callable[..., SchedulerService]


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, object]]]:
    """What reaches the event loop's exception handler: a job's error never should."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    loop.set_exception_handler(None)


def _future(when: datetime | None) -> datetime:
    assert when is not None, "expected a next run time"
    assert when > datetime.now(UTC), f"next run time {when} is not in the future"
    return when


# ------------------------------------------------------------------ register_job


async def test_register_an_async_callable_and_read_its_snapshot(make: Factory) -> None:
    service = make()
    snap = service.register_job("weekday", jf.ok_async, "0 9 * * 1-5")
    assert snap.job_id == "weekday"
    assert snap.func_ref == "tests.jobfuncs_core:ok_async"
    assert snap.cron_expression == "0 9 * * 1-5"
    assert snap.description == "At 09:00 AM, Monday through Friday"
    assert snap.timezone == "UTC"
    assert snap.state is JobState.SCHEDULED
    assert snap.next_run_time is None  # not started yet: nothing is scheduled
    assert (snap.last_run_time, snap.last_status, snap.last_duration) == (None, None, None)
    assert (snap.run_count, snap.failure_count) == (0, 0)

    service.start()
    job = service.get_job("weekday")
    assert job.next_run_time == service.next_fire_times("weekday", 1)[0]
    when = _future(job.next_run_time)
    assert when.weekday() < 5 and (when.hour, when.minute, when.second) == (9, 0, 0)


async def test_register_a_plain_def_by_module_function_reference(make: Factory) -> None:
    service = make()
    service.start()
    events = EventLog(service)
    snap = service.register_job("by_ref", "tests.jobfuncs_core:ok_plain", YEARLY)
    assert snap.func_ref == "tests.jobfuncs_core:ok_plain"
    assert events.kinds() == [EventKind.JOB_ADDED]
    assert events.events[0].job == snap
    _future(snap.next_run_time)

    service.run_job_now("by_ref")
    done = await events.finished("by_ref")
    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output.startswith("ok_plain ran in job:by_ref")


async def test_a_job_with_its_own_timezone_and_description(make: Factory) -> None:
    service = make()
    service.start()
    snap = service.register_job(
        "tokyo", jf.ok_async, "30 8 * * *", timezone="Asia/Tokyo", description="Morning in Tokyo"
    )
    assert snap.timezone == "Asia/Tokyo"
    assert snap.description == "Morning in Tokyo"
    local = _future(snap.next_run_time).astimezone(service.next_fire_times("tokyo")[0].tzinfo)
    assert (local.hour, local.minute) == (8, 30)
    assert local.utcoffset() == timedelta(hours=9)


async def test_replace_existing_swaps_the_job(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    snap = service.register_job("job", jf.ok_plain, "@daily", replace_existing=True)
    assert snap.func_ref == "tests.jobfuncs_core:ok_plain"
    assert [j.cron_expression for j in service.get_jobs()] == ["@daily"]


# ------------------------------------------------------------------ snapshots


async def test_snapshots_are_frozen_values_not_live_views(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    jobs = service.get_jobs()
    before = jobs[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.state = JobState.PAUSED  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.next_run_time = None  # type: ignore[misc]
    jobs.clear()  # the list is the caller's own
    assert len(service.get_jobs()) == 1

    service.pause_job("job")
    assert before.state is JobState.SCHEDULED  # the old snapshot did not move
    assert service.get_job("job").state is JobState.PAUSED


async def test_snapshot_tracks_runs_failures_and_the_last_run(make: Factory) -> None:
    service = make()
    service.register_job("ok", jf.short_async, YEARLY)
    service.register_job("bad", jf.fails, YEARLY)
    service.start()
    events = EventLog(service)

    started = service.run_job_now("ok")
    assert service.get_job("ok").state is JobState.RUNNING
    done = await events.finished("ok")
    job = service.get_job("ok")
    assert job.state is JobState.SCHEDULED
    assert job.last_run_time == done.started_at
    # The final record carries when the job's code began: a moment after its launch.
    assert started.started_at is not None and done.started_at is not None
    assert 0 <= (done.started_at - started.started_at).total_seconds() < 0.1
    assert job.last_status is ExecutionStatus.SUCCEEDED
    assert job.last_duration == done.duration
    assert job.last_duration is not None and 0.15 < job.last_duration < 2
    assert (job.run_count, job.failure_count) == (1, 0)

    for n in (1, 2):
        service.run_job_now("bad")
        await events.finished("bad", count=n)
    bad = service.get_job("bad")
    assert (bad.run_count, bad.failure_count, bad.last_status) == (2, 2, ExecutionStatus.FAILED)


# ------------------------------------------------------------------ start / is_running / shutdown


def test_start_outside_an_event_loop_says_so() -> None:
    service = jf.new_service()
    service.register_job("job", jf.ok_async, YEARLY)
    with pytest.raises(RuntimeError, match="running event loop"):
        service.start()
    assert not service.is_running
    assert service.shutdown() is None  # never started: nothing to stop


async def test_start_and_shutdown_in_a_running_loop(make: Factory) -> None:
    service = make()
    events = EventLog(service)
    service.register_job("job", jf.ok_async, YEARLY)
    assert not service.is_running
    service.start()
    service.start()  # a second start is a no-op
    assert service.is_running
    assert events.of(EventKind.SCHEDULER_STARTED)[0].message == "scheduler running in UTC"
    assert len(events.of(EventKind.SCHEDULER_STARTED)) == 1

    task = service.shutdown()
    assert isinstance(task, asyncio.Task)
    assert not service.is_running  # stops firing at once
    await asyncio.wait_for(task, 3)
    assert events.kinds()[-1] is EventKind.SCHEDULER_STOPPED
    assert service.get_job("job").next_run_time is None


async def test_shutdown_cancels_a_job_still_running_after_the_grace_time(make: Factory) -> None:
    service = make()
    service.register_job("forever", jf.long_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("forever")
    await asyncio.sleep(0.05)
    assert service.get_job("forever").state is JobState.RUNNING

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(service.shutdown(timeout=0.1), 3)  # type: ignore[arg-type]
    assert loop.time() - began < 2

    cancelled = events.of(EventKind.EXECUTION_CANCELLED, "forever")
    assert len(cancelled) == 1
    execution = cancelled[0].execution
    assert execution is not None
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.error == "cancelled: the scheduler shut down before the job finished"
    assert execution.ended_at is not None and execution.duration is not None
    assert execution.output == "long_async started\n"
    assert service.get_job("forever").last_status is ExecutionStatus.CANCELLED
    kinds = events.kinds()
    assert kinds.index(EventKind.EXECUTION_CANCELLED) < kinds.index(EventKind.SCHEDULER_STOPPED)


async def test_shutdown_lets_a_short_job_finish(make: Factory) -> None:
    service = make()
    service.register_job("short", jf.short_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("short")
    await asyncio.wait_for(service.shutdown(timeout=3), 3)  # type: ignore[arg-type]
    [done] = [e.execution for e in events.of(EventKind.EXECUTION_SUCCEEDED, "short")]
    assert done is not None and done.output == "short_async finished\n"
    assert not events.of(EventKind.EXECUTION_CANCELLED)


async def test_shutdown_grace_defaults_to_the_setting(make: Factory) -> None:
    service = make(shutdown_timeout_seconds=0.1)
    service.register_job("forever", jf.long_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("forever")
    await asyncio.wait_for(service.shutdown(), 3)  # type: ignore[arg-type]
    assert len(events.of(EventKind.EXECUTION_CANCELLED, "forever")) == 1


async def test_shutdown_records_a_plain_def_it_cannot_stop_as_cancelled(make: Factory) -> None:
    service = make()
    service.register_job("thread", jf.long_plain, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("thread")
    await asyncio.wait_for(service.shutdown(timeout=0.05), 3)  # type: ignore[arg-type]
    [event] = events.of(EventKind.EXECUTION_CANCELLED, "thread")
    assert event.execution is not None
    assert event.execution.warnings == ("its thread cannot be stopped and may still be running",)


async def test_no_scheduled_run_fires_after_shutdown(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    make_due(service, "job")
    service.shutdown(timeout=0)
    await asyncio.sleep(0.2)
    assert not events.of(EventKind.EXECUTION_STARTED)


# ------------------------------------------------------------------ pause / resume / remove


async def test_pause_and_resume(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    scheduled = _future(service.get_job("job").next_run_time)

    paused = service.pause_job("job")
    assert paused.state is JobState.PAUSED and paused.next_run_time is None
    assert service.get_job("job") == paused
    assert service.pause_job("job") == paused  # pausing again changes nothing
    assert events.kinds() == [EventKind.JOB_PAUSED]
    assert events.events[0].job == paused

    resumed = service.resume_job("job")
    assert resumed.state is JobState.SCHEDULED
    assert resumed.next_run_time == scheduled
    service.resume_job("job")
    assert events.kinds() == [EventKind.JOB_PAUSED, EventKind.JOB_RESUMED]


async def test_pause_before_start_keeps_the_job_paused_when_started(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.pause_job("job")
    service.start()
    assert service.get_job("job").next_run_time is None
    assert service.resume_job("job").next_run_time is not None


async def test_remove_job(make: Factory) -> None:
    service = make()
    service.register_job("gone", jf.ok_async, YEARLY)
    service.register_job("kept", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    assert service.remove_job("gone") is None
    assert [j.job_id for j in service.get_jobs()] == ["kept"]
    with pytest.raises(JobNotFoundError):
        service.get_job("gone")
    [event] = events.events
    assert (event.kind, event.job_id, event.job) == (EventKind.JOB_REMOVED, "gone", None)
    # The id is free again.
    assert service.register_job("gone", jf.ok_plain, "@daily").func_ref.endswith(":ok_plain")


# ------------------------------------------------------------------ run_job_now


async def test_run_job_now_runs_at_once_and_leaves_the_schedule_alone(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, "0 9 * * 1-5")
    service.start()
    events = EventLog(service)
    scheduled = _future(service.get_job("job").next_run_time)

    started = service.run_job_now("job")
    assert started.status is ExecutionStatus.RUNNING
    assert started.trigger is Trigger.MANUAL
    assert started.started_at is not None
    assert abs((started.started_at - datetime.now(UTC)).total_seconds()) < 1
    done = await events.finished("job")
    assert done.id == started.id
    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output == "ok_async ran\n"
    assert service.get_job("job").next_run_time == scheduled
    assert events.kinds("job") == [EventKind.EXECUTION_STARTED, EventKind.EXECUTION_SUCCEEDED]


async def test_run_job_now_on_a_paused_job_keeps_it_paused(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.pause_job("job")
    service.run_job_now("job")
    assert (await events.finished("job")).status is ExecutionStatus.SUCCEEDED
    after = service.get_job("job")
    assert (after.state, after.next_run_time) == (JobState.PAUSED, None)


# ------------------------------------------------------------------ reschedule_job


async def test_reschedule_job(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    snap = service.reschedule_job("job", "0 3 * * *")
    assert snap.cron_expression == "0 3 * * *"
    assert snap.description == "At 03:00 AM"
    when = _future(snap.next_run_time)
    assert (when.hour, when.minute) == (3, 0)
    assert when - datetime.now(UTC) <= timedelta(days=1)
    [event] = events.events
    assert (event.kind, event.message, event.job) == (EventKind.JOB_RESCHEDULED, "0 3 * * *", snap)


async def test_rescheduling_a_paused_job_keeps_it_paused(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    service.pause_job("job")
    snap = service.reschedule_job("job", "@hourly")
    assert (snap.state, snap.next_run_time, snap.cron_expression) == (
        JobState.PAUSED,
        None,
        "@hourly",
    )
    when = _future(service.resume_job("job").next_run_time)
    assert (when.minute, when.second) == (0, 0)
    assert when - datetime.now(UTC) <= timedelta(hours=1)


# ------------------------------------------------------------------ queries


async def test_next_fire_times_follow_standard_cron() -> None:
    clock = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # a Sunday
    service = SchedulerService(Settings(timezone="UTC"), store=None, clock=lambda: clock)
    service.register_job("weekday", jf.ok_async, "0 9 * * 1-5")
    times = service.next_fire_times("weekday", 5)
    assert [t.isoformat() for t in times] == [
        f"2026-{d}T09:00:00+00:00" for d in ("11-30", "12-01", "12-02", "12-03", "12-04")
    ]
    assert len(service.next_fire_times("weekday")) == 10


async def test_recent_executions_newest_first(make: Factory) -> None:
    service = make()
    service.register_job("a", jf.ok_async, YEARLY)
    service.register_job("b", jf.fails, YEARLY)
    service.start()
    events = EventLog(service)
    assert service.recent_executions() == []
    for job_id, n in (("a", 1), ("b", 1), ("a", 2)):
        service.run_job_now(job_id)
        await events.finished(job_id, count=n)

    merged = service.recent_executions()
    assert [(e.job_id, e.status) for e in merged] == [
        ("a", ExecutionStatus.SUCCEEDED),
        ("b", ExecutionStatus.FAILED),
        ("a", ExecutionStatus.SUCCEEDED),
    ]
    assert [e.id for e in merged] == sorted((e.id for e in merged), reverse=True)
    assert [e.job_id for e in service.recent_executions("a")] == ["a", "a"]
    assert len(service.recent_executions(limit=1)) == 1
    assert service.recent_executions("a")[0] == merged[0]


# ------------------------------------------------------------------ subscribe


async def test_subscribe_and_unsubscribe(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    seen: list[EventKind] = []

    def broken(_event: object) -> None:
        raise RuntimeError("a subscriber with a bug")

    unsubscribe_broken = service.subscribe(broken)
    unsubscribe = service.subscribe(lambda event: seen.append(event.kind))
    service.pause_job("job")  # the broken subscriber neither stops this nor the others
    assert service.get_job("job").state is JobState.PAUSED
    assert seen == [EventKind.JOB_PAUSED]

    unsubscribe()
    unsubscribe()  # twice is harmless
    unsubscribe_broken()
    service.resume_job("job")
    assert seen == [EventKind.JOB_PAUSED]


async def test_job_events_in_order(make: Factory) -> None:
    service = make()
    service.start()
    events = EventLog(service)
    service.register_job("job", jf.ok_async, YEARLY)
    service.pause_job("job")
    service.resume_job("job")
    service.reschedule_job("job", "@daily")
    service.remove_job("job")
    assert events.kinds() == [
        EventKind.JOB_ADDED,
        EventKind.JOB_PAUSED,
        EventKind.JOB_RESUMED,
        EventKind.JOB_RESCHEDULED,
        EventKind.JOB_REMOVED,
    ]
    assert all(e.job_id == "job" and e.at.tzinfo is not None for e in events.events)
    states = [e.job.state for e in events.events[:4] if e.job]
    assert states == [JobState.SCHEDULED, JobState.PAUSED, JobState.SCHEDULED, JobState.SCHEDULED]


# ------------------------------------------------------------------ executions on schedule


async def test_a_due_job_runs_through_the_scheduler(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.short_async, YEARLY)
    service.start()
    events = EventLog(service)
    due = datetime.now(UTC).replace(microsecond=0)
    make_due(service, "job", due)

    started = (await events.wait_for(EventKind.EXECUTION_STARTED, "job")).execution
    assert started is not None
    assert (started.status, started.trigger) == (ExecutionStatus.RUNNING, Trigger.SCHEDULE)
    assert started.scheduled_time == due
    assert started.started_at is not None and started.started_at >= due
    assert started.ended_at is None and started.duration is None

    ended = await events.wait_for(EventKind.EXECUTION_SUCCEEDED, "job")
    done = ended.execution
    assert done is not None and done.id == started.id
    assert done.scheduled_time == due and done.started_at is not None
    assert 0 <= (done.started_at - started.started_at).total_seconds() < 0.1  # its code began
    assert done.ended_at is not None and done.ended_at > done.started_at  # type: ignore[operator]
    assert done.duration == (done.ended_at - done.started_at).total_seconds()  # type: ignore[operator]
    assert 0.15 < done.duration < 2  # type: ignore[operator]
    assert ended.job is not None and ended.job.run_count == 1
    # The next run is the cron's next time again, a year away.
    assert _future(service.get_job("job").next_run_time).month == 1


async def test_a_run_later_than_the_misfire_grace_is_recorded_as_missed(make: Factory) -> None:
    service = make(misfire_grace_seconds=1)
    service.register_job("late", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    make_due(service, "late", due)

    missed = (await events.wait_for(EventKind.EXECUTION_MISSED, "late")).execution
    assert missed is not None
    assert missed.status is ExecutionStatus.MISSED
    assert missed.scheduled_time == due
    assert missed.started_at is None
    assert missed.error is not None
    assert "late, beyond the misfire grace time of 1s" in missed.error
    await asyncio.sleep(0.1)
    assert not events.of(EventKind.EXECUTION_STARTED)  # the job itself did not run
    assert _future(service.get_job("late").next_run_time).month == 1


# A stall (SIGSTOP, a suspended machine, a clock jumping forward) looks the same to
# APScheduler as a job whose next run time is in the past: its next look for due jobs finds
# every time since. ``make_due`` with a past time makes exactly that happen, through
# APScheduler's real loop, without waiting for the wall clock. (A real process stopped
# across a fire time would have to wait up to a minute for one to fall due.)

STALL_WORDS = (
    "due while jobconsole was stalled (stopped, suspended, its event loop blocked, "
    "or the clock jumped forward"
)


async def test_runs_due_during_a_stall_are_one_missed_record_and_the_latest_runs(
    durable: Factory,
) -> None:
    service = durable(misfire_grace_seconds=7200)
    service.register_job("hourly", jf.ok_async, "0 * * * *")
    service.start()
    events = EventLog(service)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    stalled_since = hour - timedelta(hours=5)
    make_due(service, "hourly", stalled_since)  # as if stopped since five hours ago

    done = await events.finished("hourly")
    assert done.status is ExecutionStatus.SUCCEEDED and done.trigger is Trigger.SCHEDULE
    latest = done.scheduled_time
    assert latest in (hour, hour + timedelta(hours=1))  # the hour may turn meanwhile
    assert latest is not None
    missed = [e.execution for e in events.of(EventKind.EXECUTION_MISSED, "hourly")]
    assert len(missed) == 1, missed
    record = missed[0]
    assert record is not None
    count = (latest - stalled_since) // timedelta(hours=1)  # 5: 7:00 ... 11:00 for 12:00
    last_missed = latest - timedelta(hours=1)
    assert record.error == (
        f"missed {count} run(s) {STALL_WORDS}; last due {last_missed:%Y-%m-%d %H:%M} UTC)"
    )
    assert record.scheduled_time == last_missed
    assert events.kinds("hourly")[:2] == [EventKind.EXECUTION_MISSED, EventKind.EXECUTION_STARTED]
    # In the state file too, as `history` shows it.
    service.store.flush()  # type: ignore[union-attr]
    assert [e.status for e in service.recent_executions("hourly")] == [
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.MISSED,
    ]
    assert service.get_job("hourly").run_count == 1  # a missed run is not a run


async def test_after_a_stall_the_latest_run_beyond_the_grace_is_missed_as_well(
    make: Factory,
) -> None:
    service = make(misfire_grace_seconds=60)
    service.register_job("new_year", jf.ok_async, "0 0 1 1 *")
    service.start()
    events = EventLog(service)
    this_year = datetime.now(UTC).year
    make_due(service, "new_year", datetime(2020, 1, 1, tzinfo=UTC))

    latest = (await events.wait_for(EventKind.EXECUTION_MISSED, "new_year", count=2)).execution
    stalled = events.of(EventKind.EXECUTION_MISSED, "new_year")[0].execution
    assert stalled is not None and latest is not None
    assert stalled.error == (
        f"missed {this_year - 2020} run(s) {STALL_WORDS}; last due {this_year - 1}-01-01 00:00 UTC)"
    )
    assert stalled.scheduled_time == datetime(this_year - 1, 1, 1, tzinfo=UTC)
    assert latest.scheduled_time == datetime(this_year, 1, 1, tzinfo=UTC)
    assert latest.error is not None
    assert "late, beyond the misfire grace time of 60s" in latest.error
    await asyncio.sleep(0.1)
    assert not events.of(EventKind.EXECUTION_STARTED)
    assert _future(service.get_job("new_year").next_run_time).year == this_year + 1


async def test_after_a_stall_a_job_still_running_is_skipped_and_the_rest_missed(
    make: Factory,
) -> None:
    service = make(misfire_grace_seconds=7200)
    service.register_job("hourly", jf.short_async, "0 * * * *")
    service.start()
    events = EventLog(service)
    running = service.run_job_now("hourly")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    make_due(service, "hourly", hour - timedelta(hours=2))

    skipped = (await events.wait_for(EventKind.EXECUTION_SKIPPED, "hourly")).execution
    assert skipped is not None and f"execution #{running.id}" in (skipped.error or "")
    missed = events.of(EventKind.EXECUTION_MISSED, "hourly")
    assert len(missed) == 1 and missed[0].execution is not None
    assert STALL_WORDS in (missed[0].execution.error or "")


async def test_one_due_time_is_not_a_stall(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    make_due(service, "job", datetime.now(UTC).replace(microsecond=0))
    assert (await events.finished("job")).status is ExecutionStatus.SUCCEEDED
    assert not events.of(EventKind.EXECUTION_MISSED)


async def test_the_scheduler_looks_for_due_runs_at_least_every_few_seconds(make: Factory) -> None:
    """Its timer runs on the monotonic clock, which stands still while the machine sleeps:
    waiting a year for a yearly job would notice runs due during a suspend only weeks
    after waking. So it never waits longer than LOOK_EVERY_SECONDS."""
    from jobs.core.engine import LOOK_EVERY_SECONDS

    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    await asyncio.sleep(0)
    scheduler = service._scheduler
    assert scheduler is not None
    wait = scheduler._timeout.when() - asyncio.get_running_loop().time()  # type: ignore[attr-defined]
    assert 0 < wait <= LOOK_EVERY_SECONDS <= 30


async def test_one_instance_at_a_time_an_overlap_is_skipped(make: Factory) -> None:
    service = make()
    service.register_job("busy", jf.long_async, YEARLY)
    service.start()
    events = EventLog(service)
    first = service.run_job_now("busy")

    again = service.run_job_now("busy")
    assert again.status is ExecutionStatus.SKIPPED
    assert again.trigger is Trigger.MANUAL
    assert again.error == f"skipped: execution #{first.id} of busy is still running"

    due = datetime.now(UTC).replace(microsecond=0)
    make_due(service, "busy", due)
    skipped = (await events.wait_for(EventKind.EXECUTION_SKIPPED, "busy", count=2)).execution
    assert skipped is not None
    assert (skipped.trigger, skipped.scheduled_time) == (Trigger.SCHEDULE, due)
    assert len(events.of(EventKind.EXECUTION_STARTED)) == 1
    assert service.get_job("busy").state is JobState.RUNNING


# ------------------------------------------------------------------ failures never escape


async def test_a_failure_is_recorded_with_its_traceback_and_nothing_escapes(
    make: Factory, loop_errors: list[dict[str, object]]
) -> None:
    service = make()
    service.register_job("bad", jf.fails, YEARLY)
    service.register_job("good", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    make_due(service, "bad")

    event = await events.wait_for(EventKind.EXECUTION_FAILED, "bad")
    failed = event.execution
    assert failed is not None
    assert failed.status is ExecutionStatus.FAILED
    assert failed.error == "ValueError: bad input: 42"
    assert failed.traceback is not None
    assert failed.traceback.startswith("Traceback (most recent call last):")
    assert "jobfuncs_core.py" in failed.traceback and "in fails" in failed.traceback
    assert 'raise ValueError("bad input: 42")' in failed.traceback
    assert failed.traceback.rstrip().endswith("ValueError: bad input: 42")
    assert failed.output == "about to fail\n"
    assert event.job is not None and event.job.failure_count == 1

    assert service.is_running
    make_due(service, "good")
    assert (await events.finished("good")).status is ExecutionStatus.SUCCEEDED
    assert loop_errors == []


async def test_a_plain_def_failure_is_recorded_too(
    make: Factory, loop_errors: list[dict[str, object]]
) -> None:
    service = make()
    service.register_job("bad", jf.fails_plain, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("bad")
    failed = await events.finished("bad")
    assert failed.error == "ConnectionError: partner API did not answer"
    assert failed.traceback is not None and "in fails_plain" in failed.traceback
    assert service.is_running
    assert loop_errors == []


@pytest.mark.parametrize(
    ("func", "error"),
    [
        (jf.exits_async, "SystemExit: 3"),
        (jf.exits_plain, "SystemExit: plain job called sys.exit"),
        (jf.interrupts_async, "KeyboardInterrupt: "),
        (jf.interrupts_plain, "KeyboardInterrupt: "),
    ],
    ids=["SystemExit-async", "SystemExit-plain", "KeyboardInterrupt-async", "KI-plain"],
)
async def test_systemexit_and_keyboardinterrupt_from_a_job_are_failures(
    make: Factory, loop_errors: list[dict[str, object]], func: Callable[[], object], error: str
) -> None:
    service = make()
    service.register_job("rude", func, YEARLY)
    service.register_job("good", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("rude")
    failed = await events.finished("rude")
    assert failed.status is ExecutionStatus.FAILED
    assert failed.error == error
    assert failed.traceback is not None and func.__name__ in failed.traceback

    await asyncio.sleep(0.05)  # the loop is still alive and the scheduler still fires
    assert service.is_running
    make_due(service, "good")
    assert (await events.finished("good")).status is ExecutionStatus.SUCCEEDED
    assert loop_errors == []


async def test_a_plain_def_runs_in_a_thread_and_never_blocks_the_loop(make: Factory) -> None:
    service = make()
    service.register_job("blocking", jf.blocking_plain, YEARLY)
    service.start()
    events = EventLog(service)
    loop = asyncio.get_running_loop()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(loop.time())
            await asyncio.sleep(0.02)

    ticking = asyncio.create_task(ticker())
    try:
        service.run_job_now("blocking")
        done = await events.finished("blocking")
    finally:
        ticking.cancel()
    assert done.status is ExecutionStatus.SUCCEEDED
    assert done.output == "blocking_plain done in job:blocking\n"
    assert done.duration is not None and done.duration >= 0.5
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 10, f"the loop ticked only {len(ticks)} times in 0.5s"
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.2f}s"


# ------------------------------------------------------------------ errors change nothing


async def _started_with_one_job(make: Factory) -> tuple[SchedulerService, EventLog]:
    service = make()
    service.register_job("existing", jf.ok_async, YEARLY)
    service.start()
    return service, EventLog(service)


async def test_a_duplicate_job_id_is_refused_by_name(make: Factory) -> None:
    service, events = await _started_with_one_job(make)
    before = service.get_jobs()
    with pytest.raises(DuplicateJobError, match="'existing' is already registered") as info:
        service.register_job("existing", jf.ok_plain, "* * * * *")
    assert info.value.job_id == "existing"
    assert service.get_jobs() == before
    assert events.events == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"func": 42}, InvalidJobError, "func must be a callable .* got int 42"),
        ({"func": "tests.jobfuncs_core:NOT_CALLABLE"}, InvalidJobError, "not a callable"),
        ({"func": "no_such_module_xyz:job"}, InvalidJobError, "'no_such_module_xyz' cannot be"),
        ({"func": "tests.jobfuncs_core:nope"}, InvalidJobError, "has no attribute 'nope'"),
        ({"func": "not a reference"}, InvalidJobError, "not of the form 'module:function'"),
        ({"func": jf.needs_argument}, InvalidJobError, "needs arguments \\(value"),
        ({"cron_expression": "61 * * * *"}, CronError, "minute field: 61 is out of range 0-59"),
        ({"cron_expression": "0 0 30 2 *"}, CronError, "can never fire"),
        ({"cron_expression": "* * *"}, CronError, "expected 5 fields"),
        ({"cron_expression": ""}, CronError, "empty"),
        ({"timezone": "Mars/Olympus"}, TimezoneError, "unknown time zone 'Mars/Olympus'"),
        ({"timeout_seconds": 0}, InvalidJobError, "timeout_seconds=0 is not valid"),
        ({"timeout_seconds": -5}, InvalidJobError, "timeout_seconds=-5 is not valid"),
        ({"timeout_seconds": "5"}, InvalidJobError, "timeout_seconds='5' is not valid"),
        ({"timeout_seconds": True}, InvalidJobError, "timeout_seconds=True is not valid"),
        ({"timeout_seconds": math.inf}, InvalidJobError, "timeout_seconds=inf is not valid"),
        ({"timeout_seconds": math.nan}, InvalidJobError, "timeout_seconds=nan is not valid"),
        ({"timeout_seconds": 1e308}, InvalidJobError, "timeout_seconds=1e\\+308 is not valid"),
        ({"timeout_seconds": 10**400}, InvalidJobError, "=an integer of 401 digits is not valid"),
        ({"timeout_seconds": 10**5000}, InvalidJobError, "=an integer of about 5001 digits is"),
        (
            {"timeout_seconds": 365 * 86400 + 0.5},
            InvalidJobError,
            "timeout_seconds=31536000.5 is not valid; expected a number of seconds above 0 "
            "and at most 31,536,000 \\(365 days\\), or None",
        ),
        ({"cron_expression": "٣ * * * *"}, CronError, "'٣' is not a number; expected ASCII"),
        ({"job_id": ""}, InvalidJobError, "job id '' is not valid"),
        ({"job_id": " padded"}, InvalidJobError, "job id ' padded' is not valid"),
        ({"job_id": None}, InvalidJobError, "job id None is not valid"),
        ({"enabled": "no"}, InvalidJobError, "enabled='no'"),
    ],
)
async def test_a_bad_registration_is_refused_and_changes_nothing(
    make: Factory, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    service, events = await _started_with_one_job(make)
    before = service.get_jobs()
    args: dict[str, object] = {
        "job_id": "new_job",
        "func": jf.ok_async,
        "cron_expression": "0 9 * * 1-5",
        **kwargs,
    }
    with pytest.raises(error, match=message):
        service.register_job(**args)  # type: ignore[arg-type]
    assert service.get_jobs() == before
    assert events.events == []


async def test_a_timeout_of_up_to_a_year_is_taken_and_more_is_refused(make: Factory) -> None:
    service = make()
    service.register_job("slow", jf.ok_async, YEARLY, timeout_seconds=365 * 86400)
    assert service.get_job("slow").timeout_seconds == 365 * 86400
    service.start()
    for value in (365 * 86400 + 1, 1e308, 10**400):
        with pytest.raises(InvalidJobError, match="at most 31,536,000 \\(365 days\\)"):
            service.set_timeout("slow", value)
    assert service.get_job("slow").timeout_seconds == 365 * 86400
    assert service.set_timeout("slow", 0.5).timeout_seconds == 0.5


async def test_a_cron_error_names_the_field_and_the_expression() -> None:
    service = jf.new_service()
    with pytest.raises(CronError) as info:
        service.register_job("job", jf.ok_async, "0 25 * * *")
    assert info.value.field == "hour"
    assert info.value.expression == "0 25 * * *"
    assert str(info.value) == (
        "invalid cron expression '0 25 * * *': hour field: 25 is out of range 0-23"
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.pause_job("ghost"),
        lambda s: s.resume_job("ghost"),
        lambda s: s.remove_job("ghost"),
        lambda s: s.reschedule_job("ghost", "* * * * *"),
        lambda s: s.run_job_now("ghost"),
        lambda s: s.get_job("ghost"),
        lambda s: s.next_fire_times("ghost"),
        lambda s: s.recent_executions("ghost"),
    ],
    ids=["pause", "resume", "remove", "reschedule", "run_now", "get", "next_fire", "recent"],
)
async def test_an_unknown_job_id_is_refused_by_name(
    make: Factory, call: Callable[[SchedulerService], object]
) -> None:
    service, events = await _started_with_one_job(make)
    before = service.get_jobs()
    with pytest.raises(JobNotFoundError, match="no job with id 'ghost' is registered"):
        call(service)
    assert service.get_jobs() == before
    assert events.events == []


async def test_rescheduling_to_a_bad_expression_changes_nothing(make: Factory) -> None:
    service, events = await _started_with_one_job(make)
    before = service.get_jobs()
    with pytest.raises(CronError, match="day-of-week field: 8 is out of range 0-7"):
        service.reschedule_job("existing", "0 9 * * 8")
    assert service.get_jobs() == before
    assert events.events == []


# ------------------------------------------------------------------ the registry


async def test_load_registry_reports_each_bad_entry_and_loads_the_rest(make: Factory) -> None:
    service = make()
    errors = service.load_registry(
        [
            {"job_id": "good_async", "func": jf.ok_async, "cron_expression": YEARLY},
            {
                "job_id": "good_ref",
                "func": "tests.jobfuncs_core:ok_plain",
                "cron_expression": "@daily",
                "description": "Plain, by reference",
                "timezone": "Europe/London",
            },
            {"job_id": "good_async", "func": jf.ok_plain, "cron_expression": "* * * * *"},
            {"job_id": "not_callable", "func": 42, "cron_expression": "@daily"},
            {"job_id": "bad_cron", "func": jf.ok_async, "cron_expression": "0 25 * * *"},
            {"job_id": "typo", "func": jf.ok_async, "cron_expression": "@daily", "enabeld": False},
            {
                "job_id": "bad_zone",
                "func": jf.ok_async,
                "cron_expression": "@daily",
                "timezone": "Nowhere/Land",
            },
            {"job_id": "half"},
            {"job_id": "off", "func": jf.ok_async, "cron_expression": "@hourly", "enabled": False},
        ]
    )
    assert len(errors) == 6
    dup, not_callable, bad_cron, typo, bad_zone, half = errors
    assert dup.startswith("registry entry 3 ('good_async'): ")
    assert "'good_async' is already registered" in dup
    assert not_callable.startswith("registry entry 4 ('not_callable'): ")
    assert "must be a callable" in not_callable
    assert bad_cron.startswith("registry entry 5 ('bad_cron'): ")
    assert "hour field: 25 is out of range 0-23" in bad_cron
    assert typo.startswith("registry entry 6 ('typo'): unknown key(s): enabeld")
    assert bad_zone.startswith("registry entry 7 ('bad_zone'): ")
    assert "'Nowhere/Land'" in bad_zone
    assert half == "registry entry 8 ('half'): missing key(s): cron_expression, func"
    assert service.boot_errors == errors

    assert [j.job_id for j in service.get_jobs()] == ["good_async", "good_ref", "off"]
    assert service.get_job("good_async").func_ref == "tests.jobfuncs_core:ok_async"
    ref = service.get_job("good_ref")
    assert (ref.timezone, ref.description) == ("Europe/London", "Plain, by reference")

    service.start()
    off = service.get_job("off")
    assert (off.state, off.next_run_time, off.enabled) == (JobState.DISABLED, None, False)
    assert off.cron_expression == "@hourly"
    _future(service.get_job("good_async").next_run_time)
    _future(service.get_job("good_ref").next_run_time)


async def test_the_shipped_registry_loads_cleanly(make: Factory) -> None:
    from jobs.registry import REGISTERED_JOBS

    service = make()
    assert service.load_registry(REGISTERED_JOBS) == []
    service.start()
    events = EventLog(service)
    jobs = {j.job_id: j for j in service.get_jobs()}
    assert len(jobs) == len(REGISTERED_JOBS) >= 4
    cleanup = jobs["cleanup_expired_tokens"]
    assert cleanup.cron_expression == "0 0 * * *"
    assert cleanup.func_ref == "jobs.cleanup:cleanup_expired_tokens"
    assert cleanup.description == "At 12:00 AM"
    assert cleanup.state is JobState.SCHEDULED
    midnight = _future(cleanup.next_run_time)
    assert (midnight.hour, midnight.minute, midnight.second) == (0, 0, 0)
    assert jobs["heartbeat"].cron_expression == "* * * * *"
    disabled = [j for j in jobs.values() if not j.enabled]
    assert disabled and all(j.next_run_time is None for j in disabled)

    service.run_job_now("cleanup_expired_tokens")
    assert (await events.finished("cleanup_expired_tokens")).status is ExecutionStatus.SUCCEEDED


async def test_build_service_loads_the_registry_named_in_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "core_registry_ok.py").write_text(
        "from tests.jobfuncs_core import ok_async\n"
        "REGISTERED_JOBS = [\n"
        '    {"job_id": "mine", "func": ok_async, "cron_expression": "0 9 * * 1-5"},\n'
        '    {"job_id": "broken", "func": "nowhere:job", "cron_expression": "@daily"},\n'
        "]\n"
    )
    (tmp_path / "core_registry_empty.py").write_text("JOBS = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    service = build_service(Settings(timezone="UTC", registry="core_registry_ok"), durable=False)
    assert [j.job_id for j in service.get_jobs()] == ["mine"]
    [error] = service.boot_errors
    assert error.startswith("registry entry 2 ('broken'): function reference 'nowhere:job'")

    with pytest.raises(RegistryError, match="'core_registry_empty': the module has no REG"):
        build_service(Settings(timezone="UTC", registry="core_registry_empty"), durable=False)
    with pytest.raises(RegistryError, match="'core_registry_missing': the module cannot be"):
        build_service(Settings(timezone="UTC", registry="core_registry_missing"), durable=False)


# ------------------------------------------------------------------ the documentation's example


async def test_the_documented_scheduler_api_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("BACKGROUND_JOBS_ENABLED=true\nJOBCONSOLE_TIMEZONE=UTC\n")

    from jobs import SchedulerService
    from jobs.cleanup import cleanup_expired_tokens

    scheduler_service = SchedulerService()  # settings from the environment and .env
    assert scheduler_service.settings.timezone == "UTC"
    scheduler_service.register_job(
        job_id="cleanup_expired_tokens",
        func=cleanup_expired_tokens,
        cron_expression="0 0 * * *",
    )
    scheduler_service.start()  # inside a running event loop
    try:
        events = EventLog(scheduler_service)
        assert scheduler_service.is_running
        [job] = scheduler_service.get_jobs()
        assert (job.job_id, job.cron_expression) == ("cleanup_expired_tokens", "0 0 * * *")
        midnight = _future(job.next_run_time)
        assert (midnight.hour, midnight.minute) == (0, 0)
        assert midnight - datetime.now(UTC) <= timedelta(days=1)

        scheduler_service.pause_job("cleanup_expired_tokens")
        [job] = scheduler_service.get_jobs()
        assert (job.state, job.next_run_time) == (JobState.PAUSED, None)

        scheduler_service.resume_job("cleanup_expired_tokens")
        [job] = scheduler_service.get_jobs()
        assert (job.state, job.next_run_time) == (JobState.SCHEDULED, midnight)

        scheduler_service.run_job_now("cleanup_expired_tokens")
        ran = await events.finished("cleanup_expired_tokens")
        assert ran.status is ExecutionStatus.SUCCEEDED

        scheduler_service.reschedule_job("cleanup_expired_tokens", "0 3 * * *")
        [job] = scheduler_service.get_jobs()
        assert (job.cron_expression, _future(job.next_run_time).hour) == ("0 3 * * *", 3)

        scheduler_service.remove_job("cleanup_expired_tokens")
        assert scheduler_service.get_jobs() == []
        assert scheduler_service.is_running
    finally:
        await scheduler_service.shutdown()  # type: ignore[misc]
    assert not scheduler_service.is_running
    # Durable as the console is (issue 13): the default state file, opened by start().
    reader = Store.open_path(tmp_path / ".jobconsole" / "state.sqlite3", read_only=True)
    try:
        assert [e.id for e in reader.executions()] == [ran.id]
    finally:
        reader.close()


# ------------------------------------------------------------------ lifecycle edges


async def test_a_zero_misfire_grace_still_runs_jobs_that_fire_on_time(make: Factory) -> None:
    service = make(misfire_grace_seconds=0)  # "0 or more" is a documented, valid setting
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    events = EventLog(service)
    make_due(service, "job")
    await asyncio.sleep(0.1)
    assert not events.of(EventKind.EXECUTION_MISSED), (
        "with JOBCONSOLE_MISFIRE_GRACE_SECONDS=0 a run a few milliseconds late "
        f"was recorded as missed: {events.of(EventKind.EXECUTION_MISSED)[0].execution}"
    )
    assert (await events.finished("job")).status is ExecutionStatus.SUCCEEDED


async def test_shutdown_twice_stops_once(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.short_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("job")
    first, second = service.shutdown(timeout=3), service.shutdown(timeout=3)
    await asyncio.wait_for(asyncio.gather(first, second), 3)  # type: ignore[arg-type]
    assert len(events.of(EventKind.SCHEDULER_STOPPED)) == 1
    assert len(events.of(EventKind.EXECUTION_SUCCEEDED)) == 1


async def test_a_service_can_start_again_after_shutdown(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.ok_async, YEARLY)
    service.start()
    await asyncio.wait_for(service.shutdown(), 3)  # type: ignore[arg-type]
    service.start()
    assert service.is_running
    _future(service.get_job("job").next_run_time)
    events = EventLog(service)
    make_due(service, "job")
    assert (await events.finished("job")).status is ExecutionStatus.SUCCEEDED


async def test_removing_a_running_job_lets_the_run_finish(make: Factory) -> None:
    service = make()
    service.register_job("job", jf.short_async, YEARLY)
    service.start()
    events = EventLog(service)
    service.run_job_now("job")
    service.remove_job("job")
    done = await events.finished("job")
    assert done.status is ExecutionStatus.SUCCEEDED
    assert service.get_jobs() == []
    assert events.of(EventKind.EXECUTION_SUCCEEDED)[0].job is None  # the job is gone


def test_function_suggestions_are_the_example_jobs_not_the_machinery() -> None:
    """The register form suggests these: only job modules, never jobs' own internals."""
    from pathlib import Path

    import jobs
    from jobs.core.funcs import discover

    # jobs/ holds the user's side only: the registry, its type and the example jobs.
    modules = {f"jobs.{p.stem}" for p in Path(jobs.__file__).parent.glob("*.py")}
    examples = modules - {"jobs.__init__", "jobs.config", "jobs.registry"}
    assert examples == {"jobs.cleanup", "jobs.heartbeat", "jobs.reports", "jobs.flaky"}
    refs = discover("jobs")
    assert "jobs.cleanup:cleanup_expired_tokens" in refs
    assert {ref.partition(":")[0] for ref in refs} <= examples


async def test_an_async_job_behind_a_plain_decorator_really_runs(make: Factory) -> None:
    service = make()
    service.register_job("deco", "tests.jobfuncs_core:decorated_async", "* * * * *")
    done = asyncio.Event()
    finished: list = []

    def on_event(event) -> None:
        if event.execution is not None and event.execution.status.is_final:
            finished.append(event.execution)
            done.set()

    service.subscribe(on_event)
    service.start()
    service.run_job_now("deco")
    await asyncio.wait_for(done.wait(), 5)
    assert finished[0].status is ExecutionStatus.SUCCEEDED
    assert "decorated body ran" in finished[0].output


def test_a_registry_entry_with_a_non_string_timezone_is_reported_not_raised(
    make: Factory,
) -> None:
    service = make()
    errors = service.load_registry(
        [
            {"job_id": "bad", "func": jf.ok_plain, "cron_expression": "@daily", "timezone": 5},
            {"job_id": "good", "func": jf.ok_plain, "cron_expression": "@daily"},
        ]
    )
    assert len(errors) == 1 and "'bad'" in errors[0] and "unknown time zone 5" in errors[0]
    assert [job.job_id for job in service.get_jobs()] == ["good"]


def test_a_registry_entry_with_a_non_string_description_is_reported_not_raised(
    make: Factory,
) -> None:
    service = make()
    errors = service.load_registry(
        [
            {"job_id": "bad", "func": jf.ok_plain, "cron_expression": "@daily", "description": 7},
            {"job_id": "good", "func": jf.ok_plain, "cron_expression": "@daily"},
        ]
    )
    assert errors == [
        "registry entry 1 ('bad'): job 'bad': description=7; expected a string or None"
    ]
    assert [job.job_id for job in service.get_jobs()] == ["good"]
    assert service.get_job("good").description == "At 12:00 AM"


async def test_every_snapshot_at_once_is_each_one_asked_for_alone(
    service: SchedulerService,
) -> None:
    """``get_jobs`` reads all next run times in one pass; it answers as ``get_job`` does."""
    service.register_job("hourly", "tests.jobfuncs:quick", "0 * * * *")
    service.register_job("held", "tests.jobfuncs:quick", "*/5 * * * *")
    service.register_job("off", "tests.jobfuncs:quick", "* * * * *", enabled=False)
    service.register_job("nightly", "tests.jobfuncs:quick", "0 3 * * *", timezone="Asia/Tokyo")
    service.start()
    service.pause_job("held")
    together = service.get_jobs()
    assert together == [service.get_job(job.job_id) for job in together]
    runs = {job.job_id: job.next_run_time for job in together}
    assert runs["hourly"] is not None and runs["nightly"] is not None
    assert runs["held"] is None and runs["off"] is None
