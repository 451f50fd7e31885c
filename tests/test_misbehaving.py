"""Misbehaving jobs and bad input (issue 6): the scheduler survives every job.

Real parts throughout: the real SchedulerService over APScheduler's AsyncIOScheduler, real
threads for plain defs and real child processes for ``isolation="process"``. Each test
asserts what a user would notice, the recorded status, error, warnings and output of the
execution, and then that the scheduler still works: it is running and another job, fired
by APScheduler itself, still runs and succeeds.

Jobs use a yearly expression so nothing fires by itself; a test makes the real scheduler
fire a job by moving that job's APScheduler ``next_run_time`` to a chosen instant.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import re
import resource
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from jobs import EventKind, Execution, ExecutionStatus, InvalidJobError, Trigger
from jobs.core.records import SchedulerEvent
from jobs.core.service import SchedulerService
from tests import jobfuncs_misbehaving as funcs
from tests.jobfuncs_core import make_due, until

YEARLY = "0 0 1 1 *"
REF = "tests.jobfuncs_misbehaving:"
MIB = 1024 * 1024


# ---------------------------------------------------------------------------- helpers


class Recorder:
    """Collects a service's events and lets a test await an execution's final record."""

    def __init__(self, service: SchedulerService) -> None:
        self.events: list[SchedulerEvent] = []
        self.finals: dict[int, Execution] = {}
        self._waiting: dict[int, asyncio.Future[Execution]] = {}
        service.subscribe(self._on_event)

    def _on_event(self, event: SchedulerEvent) -> None:
        self.events.append(event)
        execution = event.execution
        if execution is not None and execution.status.is_final:
            self.finals[execution.id] = execution
            waiter = self._waiting.pop(execution.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(execution)

    async def final(self, execution: Execution, timeout: float = 5.0) -> Execution:
        """The final record of ``execution`` (returned at once if it is final already)."""
        if execution.status.is_final:
            return execution
        if execution.id in self.finals:
            return self.finals[execution.id]
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[execution.id] = waiter
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise AssertionError(
                f"execution #{execution.id} of {execution.job_id} did not finish within "
                f"{timeout}s; events so far: {[(e.kind, e.job_id) for e in self.events]}"
            ) from None

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll ``predicate`` (about events or anything else) until it holds."""
        await until(predicate, timeout)

    def executions(self, job_id: str) -> list[Execution]:
        """Every record of ``job_id``'s executions, oldest first (started ones included)."""
        return [e.execution for e in self.events if e.execution is not None and e.job_id == job_id]


async def assert_still_works(service: SchedulerService, recorder: Recorder) -> None:
    """The scheduler is running and fires another job, which succeeds, promptly."""
    assert service.is_running, "the scheduler stopped after the misbehaving job"
    probe_id = f"probe_{len(recorder.events)}"
    service.register_job(probe_id, funcs.quick, YEARLY)
    make_due(service, probe_id, datetime.now(UTC))
    await recorder.until(lambda: bool(finals_of(recorder, probe_id)), timeout=3)
    (probe,) = finals_of(recorder, probe_id)
    assert probe.status is ExecutionStatus.SUCCEEDED, probe
    assert probe.trigger is Trigger.SCHEDULE
    assert probe.output == "quick ran\n"
    assert service.get_job(probe_id).next_run_time is not None
    assert service.is_running


def finals_of(recorder: Recorder, job_id: str) -> list[Execution]:
    return [e for e in recorder.executions(job_id) if e.status.is_final]


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def peak_resident_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists (a zombie would still count as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def child_running(marker: str) -> int | None:
    """The pid of a child of this process whose command line contains ``marker``."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = stat.rsplit(")", 1)[1].split()[1]
        if ppid == me and marker in cmdline:
            return int(entry.name)
    return None


async def wait_for_child(marker: str, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = child_running(marker)
        if pid is not None:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"no child process running {marker!r} within {timeout}s")


def start(service: SchedulerService) -> Recorder:
    """Start ``service`` with a Recorder on it.

    Called in the test body, not in a fixture: pytest puts its own ``sys.stdout`` back
    between setup and call, which would undo the output capture ``start()`` installs.
    """
    recorder = Recorder(service)
    service.start()
    return recorder


@pytest.fixture(autouse=True)
def _fresh_job_state() -> Iterator[None]:
    """Module-level job state starts empty, and no gated thread outlives its test."""
    funcs.SEEN.clear()
    funcs.CONTROL.clear()
    funcs.RELEASE.clear()
    yield
    funcs.RELEASE.set()


# ------------------------------------------------------------------------ raising


async def test_job_that_raises_is_failed_with_message_and_traceback(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("raises", funcs.raises, YEARLY)

    done = await recorder.final(service.run_job_now("raises"))

    assert done.status is ExecutionStatus.FAILED
    assert done.error == "ValueError: the partner API said no"
    assert done.traceback is not None
    assert done.traceback.startswith("Traceback (most recent call last):")
    assert 'raise ValueError("the partner API said no")' in done.traceback
    assert done.output == "about to fail\n"
    snapshot = service.get_job("raises")
    assert (snapshot.run_count, snapshot.failure_count, snapshot.last_status) == (
        1,
        1,
        ExecutionStatus.FAILED,
    )
    await assert_still_works(service, recorder)


@pytest.mark.parametrize(
    ("func", "error"),
    [
        (funcs.async_system_exit, "SystemExit: 3"),
        (funcs.plain_system_exit, "SystemExit: 3"),
        (funcs.async_keyboard_interrupt, "KeyboardInterrupt: pressed inside the job"),
        (funcs.plain_keyboard_interrupt, "KeyboardInterrupt: pressed inside the job"),
    ],
    ids=[
        "async-SystemExit",
        "plain-SystemExit",
        "async-KeyboardInterrupt",
        "plain-KeyboardInterrupt",
    ],
)
async def test_system_exit_and_keyboard_interrupt_fail_the_job_not_the_loop(
    service: SchedulerService, func: Callable[[], Any], error: str
) -> None:
    recorder = start(service)
    service.register_job("exits", func, YEARLY)

    done = await recorder.final(service.run_job_now("exits"))

    assert done.status is ExecutionStatus.FAILED
    assert done.error == error
    assert done.traceback is not None and error.split(":")[0] in done.traceback
    # The loop survived: this test is still running in it, and so is the scheduler.
    await assert_still_works(service, recorder)


# ------------------------------------------------------------- blocking the loop


async def test_async_job_blocking_the_loop_succeeds_with_a_warning_and_others_run_right_after(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("ticker", funcs.ticks_in_a_thread, YEARLY)
    service.register_job("blocker", funcs.blocks_the_loop, YEARLY)
    service.register_job("alongside", funcs.notes_when_it_runs, YEARLY)
    service.register_job("scheduled_during", funcs.notes_when_it_runs, YEARLY)

    ticker = service.run_job_now("ticker")
    await recorder.until(lambda: len(funcs.SEEN.get("thread_ticks", [])) >= 3)
    # Due half-way through the block: the real scheduler must fire it once the loop is free.
    make_due(service, "scheduled_during", datetime.now(UTC) + timedelta(seconds=0.5))
    blocker = service.run_job_now("blocker")
    alongside = service.run_job_now("alongside")  # started in the same tick as the blocker

    blocked = await recorder.final(blocker, timeout=6)
    assert blocked.status is ExecutionStatus.SUCCEEDED, blocked
    (warning,) = blocked.warnings
    match = re.search(r"blocked the event loop for about (\d+\.\d)s", warning)
    assert match, warning
    assert 1.9 <= float(match.group(1)) <= 2.6, warning

    assert (await recorder.final(alongside)).status is ExecutionStatus.SUCCEEDED
    await recorder.until(lambda: bool(finals_of(recorder, "scheduled_during")))
    (during,) = finals_of(recorder, "scheduled_during")
    assert during.status is ExecutionStatus.SUCCEEDED
    assert during.trigger is Trigger.SCHEDULE

    block_start, block_end = funcs.SEEN["blocker_start"], funcs.SEEN["blocker_end"]
    runs = funcs.SEEN["async_runs"]
    assert len(runs) == 2
    # Both async jobs ran as soon as the loop was free again: right after the block.
    assert all(0 <= run - block_end < 0.3 for run in runs), (runs, block_end)

    # The plain def in its thread went on ticking (every 20 ms) all through the block.
    assert (await recorder.final(ticker, timeout=5)).status is ExecutionStatus.SUCCEEDED
    ticks = funcs.SEEN["thread_ticks"]
    during_block = [t for t in ticks if block_start <= t <= block_end]
    assert len(during_block) >= 40, f"{len(during_block)} ticks while the loop was blocked"
    window = [block_start, *during_block, block_end]
    longest_gap = max(b - a for a, b in itertools.pairwise(window))
    assert longest_gap < 0.25, f"the thread stalled for {longest_gap:.2f}s"
    await assert_still_works(service, recorder)


# ---------------------------------------------------------------- never returning


async def test_async_job_past_its_timeout_is_timed_out_and_its_slot_freed(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("hangs", funcs.never_returns_async, YEARLY, timeout_seconds=0.3)

    launched = time.monotonic()
    first = await recorder.final(service.run_job_now("hangs"))
    took = time.monotonic() - launched

    assert first.status is ExecutionStatus.TIMED_OUT
    assert first.error == "TimeoutError: timed out after 0.3s"
    assert first.output == "waiting forever\n"
    assert first.warnings == ()  # a coroutine is really cancelled: nothing left running
    assert 0.3 <= took < 2, took
    assert service.get_job("hangs").state == "scheduled"

    second = service.run_job_now("hangs")
    assert second.status is ExecutionStatus.RUNNING, second  # started, not skipped
    assert (await recorder.final(second)).status is ExecutionStatus.TIMED_OUT
    snapshot = service.get_job("hangs")
    assert (snapshot.run_count, snapshot.failure_count) == (2, 2)
    await assert_still_works(service, recorder)


async def test_async_job_ignoring_its_cancellation_is_timed_out_and_its_slot_freed(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("stubborn", funcs.ignores_cancellation, YEARLY, timeout_seconds=0.3)

    first = await recorder.final(service.run_job_now("stubborn"), timeout=5)

    assert first.status is ExecutionStatus.TIMED_OUT, (
        "a coroutine that swallows its cancellation must still be recorded as timed out"
    )
    assert first.error == "TimeoutError: timed out after 0.3s"
    assert first.output == "ignoring cancellation\n"
    assert funcs.SEEN.get("cancelled", 0) >= 1, "it was never asked to stop"
    (warning,) = first.warnings
    assert "ignored its cancellation" in warning and "still running" in warning, warning
    assert first.duration is not None and first.duration < 2

    service.set_timeout("stubborn", None)  # so that only the shutdown stops the next run
    second = service.run_job_now("stubborn")
    assert second.status is ExecutionStatus.RUNNING, second  # the slot was freed
    await assert_still_works(service, recorder)

    task = service.shutdown(timeout=0.1)
    assert task is not None
    await asyncio.wait_for(task, 5)
    cancelled = recorder.finals[second.id]
    assert cancelled.status is ExecutionStatus.CANCELLED
    assert cancelled.warnings == ("it ignored its cancellation and may still be running",)

    # The warnings are true: both coroutines are still running, until told to stop.
    def stubborn_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name().startswith("job:stubborn#")]

    assert len(stubborn_tasks()) == 2
    funcs.RELEASE.set()
    await recorder.until(lambda: not stubborn_tasks())


async def test_plain_def_past_its_timeout_is_timed_out_warns_its_thread_runs_on(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("hangs", funcs.never_returns_plain, YEARLY, timeout_seconds=0.3)

    first = await recorder.final(service.run_job_now("hangs"))

    assert first.status is ExecutionStatus.TIMED_OUT
    assert first.error == "TimeoutError: timed out after 0.3s"
    assert first.output == "blocking in a thread\n"
    (warning,) = first.warnings
    assert "still running in the background" in warning
    assert "slot is free" in warning

    second = service.run_job_now("hangs")
    assert second.status is ExecutionStatus.RUNNING, second  # the slot was freed
    assert (await recorder.final(second)).status is ExecutionStatus.TIMED_OUT
    # The warning is true: both threads are still running.
    threads = [t for t in threading.enumerate() if t.name == "job:hangs"]
    assert len(threads) == 2 and all(t.is_alive() for t in threads)
    await assert_still_works(service, recorder)

    funcs.RELEASE.set()
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


async def test_default_timeout_from_settings_applies_and_a_job_timeout_overrides_it(
    service_factory,
) -> None:
    service = service_factory(job_timeout_seconds=0.3)
    service.register_job("default_timeout", funcs.never_returns_async, YEARLY)
    service.register_job("own_timeout", funcs.never_returns_async, YEARLY, timeout_seconds=0.6)
    recorder = start(service)

    by_default = service.run_job_now("default_timeout")
    own = service.run_job_now("own_timeout")

    by_default = await recorder.final(by_default)
    own = await recorder.final(own)
    assert by_default.status is ExecutionStatus.TIMED_OUT
    assert by_default.error == "TimeoutError: timed out after 0.3s"
    assert own.status is ExecutionStatus.TIMED_OUT
    assert own.error == "TimeoutError: timed out after 0.6s"
    assert own.duration is not None and own.duration >= 0.55
    await assert_still_works(service, recorder)


# ----------------------------------------------------------------------- flooding


async def test_job_printing_50_mb_keeps_64_kib_with_a_note_and_memory_stays_flat(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("printer", funcs.prints_50_mb, YEARLY)
    limit = service.settings.output_limit_bytes
    assert limit == 64 * 1024
    resident_before, peak_before = resident_bytes(), peak_resident_bytes()

    done = await recorder.final(service.run_job_now("printer"), timeout=30)

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output_truncated
    kept, _, note = done.output.partition("\n[output truncated: ")
    assert len(kept) == limit
    assert kept == ("x" * 1023 + "\n") * 64
    dropped = 50 * MIB - limit
    assert note == f"{dropped:,} more characters were not kept]\n"

    grown = resident_bytes() - resident_before
    peak_grown = peak_resident_bytes() - peak_before
    assert grown < 30 * MIB, f"resident memory grew by {grown / MIB:.1f} MiB"
    assert peak_grown < 30 * MIB, f"peak memory grew by {peak_grown / MIB:.1f} MiB"
    await assert_still_works(service, recorder)


async def test_job_logging_10000_records_a_second_is_captured_bounded_and_others_run(
    service: SchedulerService, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = start(service)
    service.register_job("flood", funcs.logs_in_a_tight_loop, YEARLY)
    service.register_job("alongside", funcs.notes_when_it_runs, YEARLY)
    resident_before = resident_bytes()

    flood = service.run_job_now("flood")
    # While it floods: jobs started now run at once, and scheduled ones fire on time.
    delays = []
    for _ in range(5):
        await asyncio.sleep(0.1)
        launched = time.monotonic()
        assert (await recorder.final(service.run_job_now("alongside"))).status is (
            ExecutionStatus.SUCCEEDED
        )
        delays.append(time.monotonic() - launched)
    due = datetime.now(UTC) + timedelta(seconds=0.1)
    service.register_job("scheduled_during", funcs.quick, YEARLY)
    make_due(service, "scheduled_during", due)
    await recorder.until(lambda: bool(finals_of(recorder, "scheduled_during")))
    done = await recorder.final(flood, timeout=5)

    assert max(delays) < 0.5, f"jobs started during the flood waited {delays}"
    (during,) = finals_of(recorder, "scheduled_during")
    assert during.status is ExecutionStatus.SUCCEEDED
    assert during.started_at is not None
    assert (during.started_at - due).total_seconds() < 0.5, "fired late during the flood"
    assert during.started_at < done.ended_at, "the scheduled job did not fire during the flood"

    assert done.status is ExecutionStatus.SUCCEEDED, done
    count = funcs.SEEN["flood_count"]
    assert count >= 10_000, f"only {count} records in a second: not a flood"
    assert done.output.startswith(
        "WARNING tests.flood: flood record 0\nWARNING tests.flood: flood record 1\n"
    )
    assert done.output_truncated
    assert len(done.output) < service.settings.output_limit_bytes + 200
    assert "more characters were not kept]" in done.output
    assert resident_bytes() - resident_before < 30 * MIB

    # Nothing reached the terminal nor any other log handler.
    out, err = capfd.readouterr()
    assert "flood record" not in out + err
    assert not [r for r in caplog.records if r.name == "tests.flood"]
    await assert_still_works(service, recorder)


# ------------------------------------------------------- changing its own job


async def test_job_removing_itself_while_running_is_recorded_and_gone(durable) -> None:
    service = durable()
    recorder = start(service)
    funcs.CONTROL.update(service=service, job_id="self_remover")
    service.register_job("self_remover", REF + "removes_itself", YEARLY)

    done = await recorder.final(service.run_job_now("self_remover"))

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output == "still running after removal\n"
    assert not service.has_job("self_remover")
    assert [e.kind for e in recorder.events if e.job_id == "self_remover"] == [
        EventKind.JOB_ADDED,
        EventKind.EXECUTION_STARTED,
        EventKind.JOB_REMOVED,
        EventKind.EXECUTION_SUCCEEDED,
    ]
    await assert_still_works(service, recorder)
    await service.shutdown()

    # Durable: after a restart the job stays gone and its execution is in the history.
    service = durable()
    service.start()
    assert not service.has_job("self_remover")
    (recorded,) = service.recent_executions("self_remover")
    assert (recorded.id, recorded.status) == (done.id, ExecutionStatus.SUCCEEDED)


async def test_job_rescheduling_itself_while_running_is_recorded_and_rescheduled(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    funcs.CONTROL.update(service=service, job_id="self_rescheduler", expression="30 4 * * *")
    service.register_job("self_rescheduler", REF + "reschedules_itself", YEARLY)

    done = await recorder.final(service.run_job_now("self_rescheduler"))

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output == "still running after reschedule\n"
    job = service.get_job("self_rescheduler")
    assert job.cron_expression == "30 4 * * *"
    assert job.state == "scheduled"
    assert (job.run_count, job.last_status) == (1, ExecutionStatus.SUCCEEDED)
    now = datetime.now(UTC)
    expected = now.replace(hour=4, minute=30, second=0, microsecond=0)
    if expected <= now:
        expected += timedelta(days=1)
    assert job.next_run_time == expected
    await assert_still_works(service, recorder)


# -------------------------------------------------------------------- overlapping


async def test_overlapping_run_is_skipped_naming_the_running_execution(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    gate = asyncio.Event()
    service.register_job("overlap", partial(funcs.waits_for, gate), YEARLY)

    first = service.run_job_now("overlap")
    manual = service.run_job_now("overlap")
    make_due(service, "overlap", datetime.now(UTC))  # the schedule overlaps it too
    await recorder.until(lambda: len(finals_of(recorder, "overlap")) == 2)

    assert first.status is ExecutionStatus.RUNNING
    message = f"skipped: execution #{first.id} of overlap is still running"
    assert (manual.status, manual.error, manual.trigger) == (
        ExecutionStatus.SKIPPED,
        message,
        Trigger.MANUAL,
    )
    scheduled = finals_of(recorder, "overlap")[1]
    assert (scheduled.status, scheduled.error, scheduled.trigger) == (
        ExecutionStatus.SKIPPED,
        message,
        Trigger.SCHEDULE,
    )
    assert service.get_job("overlap").state == "running"

    gate.set()
    assert (await recorder.final(first)).status is ExecutionStatus.SUCCEEDED
    skipped = [e for e in service.recent_executions("overlap") if e.status == "skipped"]
    assert [e.id for e in skipped] == [scheduled.id, manual.id]
    assert service.get_job("overlap").run_count == 1  # skips are recorded, not counted
    after = service.run_job_now("overlap")
    assert after.status is ExecutionStatus.RUNNING  # free again once the first ended
    assert (await recorder.final(after)).status is ExecutionStatus.SUCCEEDED
    await assert_still_works(service, recorder)


# ------------------------------------------------------- 1,000 due at one second


async def test_1000_jobs_due_at_the_same_second_all_run_once_and_promptly(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    ids = [f"job_{n:04d}" for n in range(1000)]
    for n, job_id in enumerate(ids):  # half coroutines, half plain defs in threads
        service.register_job(job_id, funcs.quick if n % 2 else funcs.plain_quick, YEARLY)
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    for job_id in ids:
        make_due(service, job_id, due)

    def all_final() -> bool:
        return sum(1 for e in recorder.finals.values() if e.job_id.startswith("job_")) >= 1000

    await recorder.until(all_final, timeout=15)
    await asyncio.sleep(0.2)  # room for any duplicate run to show up

    runs: dict[str, list[Execution]] = {}
    for execution in recorder.finals.values():
        runs.setdefault(execution.job_id, []).append(execution)
    assert sorted(runs) == ids
    twice = {job_id: len(r) for job_id, r in runs.items() if len(r) != 1}
    assert not twice, f"jobs run more than once: {twice}"
    not_ok = [e for (e,) in runs.values() if e.status is not ExecutionStatus.SUCCEEDED]
    assert not not_ok, f"{len(not_ok)} did not succeed, e.g. {not_ok[:3]}"
    executions = [e for (e,) in runs.values()]
    assert all(e.trigger is Trigger.SCHEDULE and e.scheduled_time == due for e in executions)
    latest_start = max(e.started_at for e in executions if e.started_at is not None)
    assert (latest_start - due).total_seconds() < 1.0, f"last one started at {latest_start}"
    assert all(service.get_job(job_id).next_run_time.year == due.year + 1 for job_id in ids)
    await assert_still_works(service, recorder)


# --------------------------------------------------------- isolation="process"


async def test_process_job_calling_os_exit_fails_with_its_exit_status(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("exits", REF + "exits_7", YEARLY, isolation="process")

    done = await recorder.final(service.run_job_now("exits"))

    assert done.status is ExecutionStatus.FAILED
    assert done.error == "the job's process exited with status 7"
    assert done.output == "exiting with 7\n"
    await assert_still_works(service, recorder)


async def test_process_job_segfaulting_fails_naming_sigsegv(service: SchedulerService) -> None:
    recorder = start(service)
    service.register_job("crashes", REF + "segfaults", YEARLY, isolation="process")

    done = await recorder.final(service.run_job_now("crashes"))

    assert done.status is ExecutionStatus.FAILED
    assert done.error == "the job's process was killed by signal SIGSEGV (-11)"
    assert done.output.startswith("about to dereference NULL\n")
    await assert_still_works(service, recorder)


async def test_process_job_blowing_up_memory_fails_with_memory_error(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job(
        "blows_up", REF + "allocates_until_memory_error", YEARLY, isolation="process"
    )
    peak_before = peak_resident_bytes()

    done = await recorder.final(service.run_job_now("blows_up"), timeout=15)

    assert done.status is ExecutionStatus.FAILED, done
    assert done.error is not None
    assert done.error.startswith("MemoryError"), done.error
    assert done.error.endswith("(process exited with status 1)")
    assert done.traceback is not None and "MemoryError" in done.traceback
    assert done.output.startswith("allocating\n")
    assert peak_resident_bytes() - peak_before < 30 * MIB  # the child's memory, not ours
    await assert_still_works(service, recorder)


async def test_process_job_raising_fails_with_its_message_and_traceback(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("raises", REF + "raises_in_child", YEARLY, isolation="process")

    done = await recorder.final(service.run_job_now("raises"))

    assert done.status is ExecutionStatus.FAILED
    assert done.error == "ValueError: bad row 42 in the child (process exited with status 1)"
    assert done.traceback is not None
    assert done.traceback.startswith("Traceback (most recent call last):")
    assert 'raise ValueError("bad row 42 in the child")' in done.traceback
    assert "ValueError: bad row 42 in the child" in done.traceback
    assert done.output.startswith("hello from the child\n")
    await assert_still_works(service, recorder)


async def test_process_job_output_is_captured(service: SchedulerService, capfd) -> None:
    recorder = start(service)
    service.register_job("prints", REF + "prints_in_child", YEARLY, isolation="process")

    done = await recorder.final(service.run_job_now("prints"))

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert "hello from the child\n" in done.output
    assert "to stderr too\n" in done.output
    out, err = capfd.readouterr()
    assert "hello from the child" not in out + err
    await assert_still_works(service, recorder)


async def test_process_job_past_its_timeout_is_timed_out_and_its_process_killed(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job(
        "sleeps", REF + "prints_pid_and_sleeps", YEARLY, isolation="process", timeout_seconds=1.5
    )

    running = service.run_job_now("sleeps")
    pid = await wait_for_child("prints_pid_and_sleeps")
    done = await recorder.final(running, timeout=10)

    assert done.status is ExecutionStatus.TIMED_OUT
    assert done.error == "TimeoutError: timed out after 1.5s"
    assert done.warnings == ()  # unlike a thread, the process was really stopped
    assert done.output == f"pid={pid}\n"
    assert process_gone(pid), f"the job's process {pid} is still there"
    again = service.run_job_now("sleeps")
    assert again.status is ExecutionStatus.RUNNING
    await assert_still_works(service, recorder)


async def test_shutdown_cancels_a_running_process_job_and_kills_its_process(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("sleeps", REF + "prints_pid_and_sleeps", YEARLY, isolation="process")

    running = service.run_job_now("sleeps")
    pid = await wait_for_child("prints_pid_and_sleeps")
    task = service.shutdown(timeout=0.2)
    assert task is not None
    await asyncio.wait_for(task, 10)

    done = recorder.finals[running.id]
    assert done.status is ExecutionStatus.CANCELLED
    assert done.error == "cancelled: the scheduler shut down before the job finished"
    assert done.warnings == ()
    assert process_gone(pid), f"the job's process {pid} outlived the shutdown"
    assert not service.is_running
    assert recorder.events[-1].kind is EventKind.SCHEDULER_STOPPED


async def test_lambda_with_process_isolation_is_refused(service: SchedulerService) -> None:
    recorder = start(service)

    with pytest.raises(InvalidJobError, match="module-level function") as refused:
        service.register_job("lam", lambda: None, YEARLY, isolation="process")

    assert "'lam'" in str(refused.value)
    assert "isolation='process'" in str(refused.value)
    assert not service.has_job("lam")
    await assert_still_works(service, recorder)


# ---------------------------------------------------------------------- bad input


BAD_VALUES = [
    ({"isolation": "bogus"}, "isolation='bogus'"),
    ({"isolation": ""}, "isolation=''"),
    ({"timeout_seconds": 0}, "timeout_seconds=0 "),
    ({"timeout_seconds": -1}, "timeout_seconds=-1 "),
    ({"timeout_seconds": "5"}, "timeout_seconds='5' "),
    ({"timeout_seconds": True}, "timeout_seconds=True "),
    ({"timeout_seconds": math.nan}, "timeout_seconds=nan "),
    ({"timeout_seconds": math.inf}, "timeout_seconds=inf "),
]


@pytest.mark.parametrize(
    ("kwargs", "named"), BAD_VALUES, ids=[named.strip() for _, named in BAD_VALUES]
)
async def test_register_job_refuses_a_bad_value_by_name_and_registers_nothing(
    service: SchedulerService, kwargs: dict[str, Any], named: str
) -> None:
    recorder = start(service)
    before = len(recorder.events)

    with pytest.raises(InvalidJobError) as refused:
        service.register_job("bad", funcs.quick, YEARLY, **kwargs)

    message = str(refused.value)
    assert named in message, message
    assert "'bad'" in message and "expected" in message
    assert not service.has_job("bad")
    assert service.get_jobs() == []
    assert len(recorder.events) == before, "a refused job must not be announced"
    await assert_still_works(service, recorder)


@pytest.mark.parametrize(
    "value", [0, -1, "5", True, math.nan, math.inf], ids=["0", "-1", "'5'", "True", "nan", "inf"]
)
async def test_set_timeout_refuses_a_bad_value_and_keeps_the_old_one(
    service: SchedulerService, value
) -> None:
    recorder = start(service)
    service.register_job("kept", funcs.quick, YEARLY, timeout_seconds=5)

    with pytest.raises(InvalidJobError, match=re.escape(f"timeout_seconds={value!r} ")):
        service.set_timeout("kept", value)

    assert service.get_job("kept").timeout_seconds == 5.0
    await assert_still_works(service, recorder)
