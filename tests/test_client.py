"""The in-process client, without Textual: it is the service, behind the console's surface."""

from __future__ import annotations

import sys
from dataclasses import fields

import pytest

from jobs.core import cron
from jobs.core.client import LocalClient, SchedulerClient
from jobs.core.errors import DuplicateJobError, InvalidJobError, JobNotFoundError
from jobs.core.records import (
    NEXT_RUNS_ONLY,
    EventKind,
    ExecutionStatus,
    JobRow,
    JobSnapshot,
    JobState,
    SchedulerEvent,
)
from jobs.core.service import SchedulerService
from tests.conftest import ServiceFactory

PLAIN = "tests.jobfuncs:plain"


async def test_every_action_and_read_goes_through_the_client(service: SchedulerService) -> None:
    client: SchedulerClient = LocalClient(service)
    heard: list[SchedulerEvent] = []
    client.subscribe(heard.append)
    await client.start()
    job = await client.register_job("nightly", PLAIN, "0 3 * * *")
    assert job.job_id == "nightly" and job.source == "runtime"
    assert [j.job_id for j in await client.get_jobs()] == ["nightly"]
    assert (await client.pause_job("nightly")).state is JobState.PAUSED
    assert (await client.resume_job("nightly")).state is JobState.SCHEDULED
    assert (await client.reschedule_job("nightly", "0 4 * * *")).cron_expression == "0 4 * * *"
    assert (await client.set_timeout("nightly", 30)).timeout_seconds == 30
    assert len(await client.next_fire_times("nightly", 3)) == 3
    execution = await client.run_job_now("nightly")
    assert execution.status is ExecutionStatus.RUNNING
    await client.stop()
    assert (await client.recent_executions("nightly"))[0].status is ExecutionStatus.SUCCEEDED
    await client.remove_job("nightly")
    assert await client.get_jobs() == []
    kinds = [event.kind for event in heard]
    for kind in (EventKind.JOB_ADDED, EventKind.JOB_PAUSED, EventKind.EXECUTION_SUCCEEDED):
        assert kind in kinds
    assert kinds[-1] is EventKind.JOB_REMOVED


async def test_refusals_are_the_library_s_own_exceptions(service: SchedulerService) -> None:
    client = LocalClient(service)
    await client.start()
    await client.register_job("a", PLAIN, "* * * * *")
    with pytest.raises(DuplicateJobError) as duplicate:
        await client.register_job("a", PLAIN, "* * * * *")
    assert duplicate.value.field == "job_id"
    with pytest.raises(cron.CronError) as bad_cron:
        await client.register_job("b", PLAIN, "61 * * * *")
    assert bad_cron.value.field == "minute"
    with pytest.raises(InvalidJobError):
        await client.register_job("c", "tests.jobfuncs:no_such_function", "* * * * *")
    with pytest.raises(JobNotFoundError):
        await client.pause_job("nobody")
    assert [j.job_id for j in await client.get_jobs()] == ["a"]  # refusals change nothing


async def test_status_says_what_the_status_line_shows(make: ServiceFactory) -> None:
    service = make(background_jobs_enabled=False, timezone="Europe/Amsterdam")
    service.boot_errors.append("entry 3: bad")
    client = LocalClient(service)
    status = client.status()
    assert status.timezone == "Europe/Amsterdam" and status.tz.key == "Europe/Amsterdam"
    assert status.disabled_reason is not None and "BACKGROUND_JOBS_ENABLED" in (
        status.disabled_reason
    )
    assert status.boot_errors == ("entry 3: bad",)
    assert status.state_error is None and not status.durable and not status.running
    assert status.shutdown_timeout_seconds == service.settings.shutdown_timeout_seconds


async def test_running_follows_start_and_stop(service: SchedulerService) -> None:
    client = LocalClient(service)
    assert not client.status().running
    await client.start()
    assert client.status().running
    await client.stop(timeout=0)
    assert not client.status().running


async def test_the_service_is_heard_only_while_someone_listens(service: SchedulerService) -> None:
    client = LocalClient(service)
    heard: list[SchedulerEvent] = []
    unsubscribe = client.subscribe(heard.append)
    await client.start()
    service.register_job("x", PLAIN, "* * * * *")
    assert EventKind.JOB_ADDED in [e.kind for e in heard]
    unsubscribe()
    count = len(heard)
    service.register_job("y", PLAIN, "* * * * *")
    assert len(heard) == count


def test_the_client_module_loads_no_textual() -> None:
    import subprocess

    code = "import sys, jobs.core.client; print(any(m.startswith('textual') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


async def test_status_says_a_state_file_keeps_jobs_and_runs(durable: ServiceFactory) -> None:
    """What the remove dialog tells: with a state file a removal lasts past a restart."""
    service = durable()
    assert service.durable and LocalClient(service).status().durable


async def test_a_run_that_has_ended_is_in_the_history_read_right_after(
    durable: ServiceFactory, tmp_path
) -> None:
    """The state file is written on a thread of its own; a console asking for a job's
    runs as its end is announced (``o``, the detail view) must find that run, even while
    the writes are held up (here by another process's write transaction)."""
    import asyncio
    import sqlite3

    from tests.jobfuncs_core import until

    service = durable()
    service.register_job("once", "tests.jobfuncs:quick", "0 0 1 1 *")
    service.start()
    client = LocalClient(service)
    ended: list[int] = []
    client.subscribe(
        lambda e: (
            ended.append(e.execution.id)
            if e.execution is not None and e.execution.status.is_final
            else None
        )
    )
    other = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the state file's writer waits for it
        asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")
        service.run_job_now("once")
        await until(lambda: ended)
        runs = await client.recent_executions("once", limit=5)
    finally:
        other.close()
    assert [run.id for run in runs if run.status.is_final] == ended


async def test_rows_and_next_run_times_say_what_the_snapshots_say(
    service: SchedulerService,
) -> None:
    """The table reads plain rows and, after a start, the next run times alone: the same
    values as the snapshots, from this process's scheduler and from the default any other
    client (one over the control socket) inherits."""
    client = LocalClient(service)
    await client.start()
    await client.register_job("nightly", PLAIN, "0 3 * * *")
    await client.register_job("held", PLAIN, "*/5 * * * *")
    await client.pause_job("held")
    service.register_job("broken", PLAIN, "0 3 * * *", enabled=False)
    snapshots = await client.get_jobs()
    rows = [JobRow.of(job) for job in snapshots]
    assert [row.snapshot() for row in rows] == snapshots
    assert await client.get_job_rows() == rows
    assert await SchedulerClient.get_job_rows(client) == rows
    times = {job.job_id: job.next_run_time for job in snapshots}
    assert times["nightly"] is not None and times["held"] is None
    assert await SchedulerClient.next_run_times(client) == times
    local = await client.next_run_times()
    assert {job_id: local.get(job_id) for job_id in times} == times  # absent: none


def test_a_row_has_a_snapshot_s_fields_in_its_order() -> None:
    assert JobRow._fields == tuple(field.name for field in fields(JobSnapshot))


async def test_the_start_says_when_it_changed_no_job_but_its_next_run(
    durable: ServiceFactory,
) -> None:
    """A console then reads the next run times, not every job; when the start itself
    merged the state file (a pause kept there), it must read them all."""
    registry = [{"job_id": "kept", "func": PLAIN, "cron_expression": "0 3 * * *"}]
    first = durable()
    first.load_registry(registry)
    first.pause_job("kept")
    first.close()
    for merged_before in (True, False):
        service = durable()
        service.load_registry(registry)
        if merged_before:
            service.load_state()
        heard: list[SchedulerEvent] = []
        service.subscribe(heard.append)
        await LocalClient(service).start()
        started = [event for event in heard if event.kind is EventKind.SCHEDULER_STARTED]
        assert [event.details for event in started] == [
            dict([NEXT_RUNS_ONLY]) if merged_before else {}
        ]
        assert service.get_job("kept").state is JobState.PAUSED
        task = service.shutdown(timeout=0)
        assert task is not None
        await task
        service.close()
