"""A job cannot take the runner away from the others (issue 11, item 7): the cases that need
a ``jobconsole run --headless`` process of their own, since they close its descriptors,
leave threads behind in it or kill it outright.

As in ``test_signals.py``, the state file says jobconsole was last alive 90 seconds ago,
so every every-minute job of the registry is caught up, run once, right at start.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
import uuid
from pathlib import Path

from jobs import Execution, ExecutionStatus
from tests.test_signals import (
    EVERY_MINUTE,
    YEARLY,
    Headless,
    gone_within,
    kill_and_reap,
    launch,
    prepare,
    process_gone,
    started_child,
    stored_executions,
)

REGISTRY_HEAD = """
import asyncio
import os
import threading
import time

KEEP = []


def tick():
    pass
"""


def registry(tmp_path: Path, source: str, jobs: dict[str, str], shutdown_timeout: float = 1.0):
    """A registry module of ``source`` with ``jobs`` (id: function name) run at start."""
    # prepare() writes test_signals' registry too, unused here; its "running" job marks
    # the state file as last alive 90 seconds ago.
    state, env = prepare(tmp_path, running="slow_async", shutdown_timeout=shutdown_timeout)
    name = f"takeover_registry_{uuid.uuid4().hex[:8]}"
    entries = "".join(
        f'    {{"job_id": {job_id!r}, "func": {func}, "cron_expression": "{EVERY_MINUTE}"}},\n'
        for job_id, func in jobs.items()
    )
    entries += f'    {{"job_id": "yearly", "func": tick, "cron_expression": "{YEARLY}"}},\n'
    text = REGISTRY_HEAD + textwrap.dedent(source) + f"\nREGISTERED_JOBS = [\n{entries}]\n"
    (tmp_path / f"{name}.py").write_text(text)
    env["JOBCONSOLE_REGISTRY"] = name
    return state, env


def ran(state: Path, job_id: str) -> list[Execution]:
    """The job's executions that ran (not the missed run that start-up catches up)."""
    return [e for e in stored_executions(state, job_id) if e.started_at is not None]


def first_run(state: Path, job_id: str) -> Execution:
    """The job's run at start-up: a minute may turn while a test runs, and the job
    (every minute) then runs again, as it should."""
    runs = ran(state, job_id)
    assert runs, f"{job_id} never ran"
    times = [e.scheduled_time for e in runs]
    assert len(set(times)) == len(times), f"{job_id} ran twice for one time: {times}"
    return min(runs, key=lambda e: e.id)


async def read_all(headless: Headless, *markers: str) -> None:
    """Read on until every marker has been printed, in whatever order."""
    for marker in markers:
        if not any(marker in line for line in headless.lines):
            await headless.read_until(marker)


# ------------------------------------------------------------ descriptors 1 and 2


CLOSES_AND_REOPENS = """
async def takes_stdio():
    os.close(1)
    os.close(2)
    # The next two files get the numbers 1 and 2: whatever jobconsole writes "to
    # standard output" from now on lands in them.
    KEEP.append(open("taken-1.txt", "w"))
    KEEP.append(open("taken-2.txt", "w"))
    with open("fds.txt", "w") as note:
        note.write(f"{KEEP[0].fileno()} {KEEP[1].fileno()}")
"""


async def test_a_job_closing_fd_1_and_2_gets_none_of_the_runners_lines(tmp_path: Path) -> None:
    state, env = registry(tmp_path, CLOSES_AND_REOPENS, {"takes_stdio": "takes_stdio"})
    headless = await launch(tmp_path, state, env)
    try:
        await headless.read_until("jobconsole: running")
        await headless.read_until("takes_stdio  succeeded")
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=10)
    finally:
        await kill_and_reap(headless)

    assert (tmp_path / "fds.txt").read_text() == "1 2", "the job's files did not take 1 and 2"
    taken = (tmp_path / "taken-1.txt").read_text() + (tmp_path / "taken-2.txt").read_text()
    assert taken == "", f"jobconsole wrote into the job's files: {taken!r}"
    assert code == 0, (out, err)
    assert "jobconsole: shutting down" in out and "scheduler stopped" in out
    assert "Traceback" not in err, err


CLOSES_THEN_OTHERS_OPEN = """
def closes_stdio():
    os.close(1)
    os.close(2)


async def opens_a_file_later():
    await asyncio.sleep(1)  # after closes_stdio has ended
    KEEP.append(open("later.txt", "w"))
    with open("later-fd.txt", "w") as note:
        note.write(str(KEEP[-1].fileno()))
"""


async def test_fd_1_and_2_closed_by_a_job_are_reopened_and_the_run_warned(tmp_path: Path) -> None:
    state, env = registry(
        tmp_path,
        CLOSES_THEN_OTHERS_OPEN,
        {"closes_stdio": "closes_stdio", "opens_later": "opens_a_file_later"},
    )
    headless = await launch(tmp_path, state, env)
    try:
        await read_all(headless, "jobconsole: running", "opens_later  succeeded")
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=10)
    finally:
        await kill_and_reap(headless)

    assert int((tmp_path / "later-fd.txt").read_text()) > 2, "a later file took fd 1 or 2"
    assert (tmp_path / "later.txt").read_text() == ""
    assert code == 0, (out, err)
    assert "closes_stdio  succeeded" in out and "scheduler stopped" in out
    closed = first_run(state, "closes_stdio")
    assert closed.warnings == (
        "closed file descriptors 1 and 2 (standard output and error); jobconsole opened "
        "/dev/null there so that files opened later do not take their place",
    )


# ------------------------------------------------------------------ the loop stopped


STOPS_THE_LOOP = """
async def stops_the_loop():
    asyncio.get_event_loop().stop()
    await asyncio.sleep(0.5)
    print("still here")
"""


async def test_a_job_stopping_the_loop_leaves_the_runner_running(tmp_path: Path) -> None:
    state, env = registry(tmp_path, STOPS_THE_LOOP, {"stopper": "stops_the_loop"})
    headless = await launch(tmp_path, state, env)
    try:
        await read_all(headless, "jobconsole: running", "stopper  succeeded")
        assert headless.proc.returncode is None, "the runner ended with the loop"
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=10)
    finally:
        await kill_and_reap(headless)

    assert code == 0, (out, err)
    assert "scheduler stopped" in out
    assert "Traceback" not in err, err
    stopped = first_run(state, "stopper")
    assert stopped.output == "still here\n"
    assert stopped.warnings == (
        "called the event loop's stop(): jobconsole ignored it, so that the scheduler and the "
        "other jobs go on",
    )


# ----------------------------------------------------------- a thread left behind


LEAVES_THREADS = """
async def leaves_a_thread():  # made on the loop's thread, so not a daemon
    threading.Thread(target=time.sleep, args=(120,), name="left-behind").start()


def leaves_a_worker():  # made in a daemon thread: not a daemon only when asked
    name = "left-too\\x1b]0;t\\x07"  # a job's thread may have any name
    threading.Thread(target=time.sleep, args=(120,), name=name, daemon=False).start()


async def waits_on_to_thread():  # cancelled at shutdown; asyncio's worker thread runs on
    await asyncio.to_thread(time.sleep, 120)
"""


async def test_a_non_daemon_thread_left_by_a_job_does_not_hold_the_exit(tmp_path: Path) -> None:
    state, env = registry(
        tmp_path,
        LEAVES_THREADS,
        {
            "leaver": "leaves_a_thread",
            "worker": "leaves_a_worker",
            "offloader": "waits_on_to_thread",
        },
    )
    headless = await launch(tmp_path, state, env)
    try:
        await read_all(
            headless,
            "jobconsole: running",
            "leaver  succeeded",
            "worker  succeeded",
            "offloader  running",
        )
        signalled = time.monotonic()
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=10)
        took = time.monotonic() - signalled
    finally:
        await kill_and_reap(headless)

    assert code == 0, (out, err)
    # The 1 s shutdown timeout for the offloader, a second for asyncio's threads, then out.
    assert took < 4, f"exited {took:.1f}s after SIGTERM"
    assert "offloader  cancelled" in out and "scheduler stopped" in out
    assert "left-behind" in err and "left-too" in err and "asyncio_0" in err, err
    assert "left-too\\x1b]0;t\\x07" in err and "\x1b" not in err, err  # a name is shown, not obeyed
    assert "Traceback" not in err, err
    for job_id in ("leaver", "worker"):  # the state file was closed before the exit
        done = first_run(state, job_id)
        assert done.status is ExecutionStatus.SUCCEEDED


# ------------------------------------------------------ the runner killed outright


async def test_a_process_job_dies_with_its_sigkilled_runner(tmp_path: Path) -> None:
    state, env = prepare(tmp_path, running="slow_process")
    headless = await launch(tmp_path, state, env)
    child = None
    try:
        await headless.read_until("slow_process  running")
        child = await started_child(tmp_path)
        headless.proc.send_signal(signal.SIGKILL)
        await headless.proc.wait()
        assert await gone_within(child, 3), (
            f"the process job's child {child} outlived its SIGKILLed runner"
        )
    finally:
        await kill_and_reap(headless)
        if child is not None and not process_gone(child):
            os.kill(child, signal.SIGKILL)
