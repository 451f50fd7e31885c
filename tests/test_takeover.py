"""A job cannot take the capture or the loop away from the others (issue 11, item 7).

In the test process, with the real service and APScheduler: a job that replaces
``sys.stdout``, stops the event loop or stalls the interpreter. What needs a process of
its own (closing descriptors 1 and 2, leaving a thread behind, a SIGKILLed runner) is in
``test_takeover_headless.py``. Each case is survived, and the execution that did it says
so in its record.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import ExecutionStatus
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from tests import jobfuncs_takeover as funcs
from tests.jobfuncs_core import make_due
from tests.test_misbehaving import YEARLY, assert_still_works, finals_of, start

REF = "tests.jobfuncs_takeover:"


@pytest.fixture(autouse=True)
def _fresh_job_state() -> Iterator[None]:
    funcs.SEEN.clear()
    funcs.CONTROL.clear()
    yield


# ------------------------------------------------------------- sys.stdout replaced


@pytest.mark.parametrize("swapper", ["swaps_stdout", "swaps_stdout_for_a_buffer"])
async def test_a_job_replacing_sys_stdout_is_warned_and_later_output_is_captured_again(
    service: SchedulerService, capfd: pytest.CaptureFixture[str], swapper: str
) -> None:
    host_stdout, host_stderr = sys.stdout, sys.stderr
    recorder = start(service)
    service.register_job("swapper", REF + swapper, YEARLY)
    service.register_job("printer", REF + "prints_both", YEARLY)

    swapped = await recorder.final(service.run_job_now("swapper"))
    later = await recorder.final(service.run_job_now("printer"))

    assert swapped.status is ExecutionStatus.SUCCEEDED, swapped
    names = "sys.stdout and sys.stderr" if swapper == "swaps_stdout" else "sys.stdout"
    assert later.output == "to stdout\nto stderr\n", "a later job's output was not captured"
    assert swapped.warnings == (
        f"replaced {names}; jobconsole put its own back so that other jobs' output stays captured",
    )
    assert later.status is ExecutionStatus.SUCCEEDED
    assert later.output == "to stdout\nto stderr\n"
    assert later.warnings == ()
    out, err = capfd.readouterr()
    assert "to std" not in out + err, "a later job's output reached the terminal"
    await assert_still_works(service, recorder)

    await service.shutdown()
    # What the program had before the service started is back, as after any run.
    assert (sys.stdout, sys.stderr) == (host_stdout, host_stderr)


# ---------------------------------------------------------------- the loop stopped


async def test_an_async_job_stopping_the_loop_is_ignored_and_warned(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    service.register_job("stopper", REF + "stops_the_loop", YEARLY)

    done = await recorder.final(service.run_job_now("stopper"))
    await asyncio.sleep(0.1)  # a stopped loop would end this test with a RuntimeError here

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.output == "stopping the loop\nstill here\n"
    assert done.warnings == (STOP_WARNING,)
    await assert_still_works(service, recorder)


STOP_WARNING = (
    "called the event loop's stop(): jobconsole ignored it, so that the scheduler and the "
    "other jobs go on"
)


async def test_a_thread_job_stopping_the_loop_is_ignored_and_warned(
    service: SchedulerService,
) -> None:
    recorder = start(service)
    funcs.CONTROL["loop"] = asyncio.get_running_loop()
    service.register_job("stopper", REF + "stops_the_loop_from_its_thread", YEARLY)

    done = await recorder.final(service.run_job_now("stopper"))
    await asyncio.sleep(0.1)

    assert done.status is ExecutionStatus.SUCCEEDED, done
    assert done.warnings == (STOP_WARNING,)
    await assert_still_works(service, recorder)


def test_the_programs_own_stop_still_stops_the_loop(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    service = SchedulerService(Settings(timezone="UTC", state_path=tmp_path / "s.sqlite3"))
    unguarded: list[bool] = []

    def stop_for_sure() -> None:  # only if the program's own stop() no longer stops
        unguarded.append(True)
        type(loop).stop(loop)

    async def shut_down() -> None:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task

    try:
        loop.call_soon(service.start)
        loop.call_later(0.2, loop.stop)
        loop.call_later(3, stop_for_sure)
        loop.run_forever()
        assert not unguarded, "loop.stop() called by the program itself did not stop the loop"
        assert service.is_running
        loop.run_until_complete(shut_down())
    finally:
        loop.close()


# -------------------------------------------------------- the interpreter stalled


@pytest.mark.parametrize(
    ("staller", "other"),
    [
        ("holds_the_gil_for_2s", "notes_its_start_in_a_thread"),
        ("blocks_the_loop_for_2s", "notes_its_start"),
    ],
    ids=["GIL-held-thread-job", "loop-blocked-async-job"],
)
async def test_a_job_due_while_another_stalls_records_its_real_start(
    service: SchedulerService, staller: str, other: str
) -> None:
    recorder = start(service)
    service.register_job("staller", REF + staller, YEARLY)
    service.register_job("other", REF + other, YEARLY)
    # Due at the same instant: launched in one loop iteration, the staller first.
    due = datetime.now(UTC) + timedelta(seconds=0.3)
    make_due(service, "staller", due)
    make_due(service, "other", due + timedelta(microseconds=1))

    await recorder.until(lambda: bool(finals_of(recorder, "other")), timeout=10)
    await recorder.until(lambda: bool(finals_of(recorder, "staller")), timeout=10)

    (done,) = finals_of(recorder, "other")
    assert done.status is ExecutionStatus.SUCCEEDED, done
    (real_start,) = funcs.SEEN["started"]
    assert done.started_at is not None and done.lateness is not None
    # Whenever its code began, the record says so, within the loop's own latency.
    assert abs(done.started_at.timestamp() - real_start) < 0.1, (done.started_at, real_start)
    stall = funcs.SEEN["stall_end"] - funcs.SEEN["stall_start"]
    assert stall >= 1.9
    if real_start > due.timestamp() + 1:  # it ran after the stall: its lateness shows it
        assert done.lateness >= 1.5, done.lateness
    (started,) = [e for e in recorder.executions("other") if not e.status.is_final]
    assert started.started_at is not None  # the running record is written at launch
    await assert_still_works(service, recorder)
