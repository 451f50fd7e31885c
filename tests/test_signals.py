"""Signals and quitting: ``jobconsole run --headless`` (issue 6) shuts down as ``q`` does,
and so does the console when its terminal goes away or a job ignores its cancellation.

Each test runs the real command as a subprocess in ``tmp_path``, with its own state file
and a registry module written there; the console runs in a pseudo-terminal. To have a job
running when the signal arrives without waiting for a cron minute, the state file is
prepared to say jobconsole was last alive 90 seconds ago: with a generous misfire grace
time, start-up catches up by running the latest missed run of an every-minute job at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import ExecutionStatus
from jobs.core.store import Store
from tests.console_pty import Console

REPO = Path(__file__).resolve().parents[1]
JOBCONSOLE = Path(sys.executable).with_name("jobconsole")

REGISTRY = """
import asyncio
import time


async def slow_async():
    print("slow_async working")
    await asyncio.sleep(120)


def slow_plain():
    print("slow_plain working")
    time.sleep(120)


def slow_process():
    import os
    print(f"pid={os.getpid()}", flush=True)
    with open("slow_process.pid", "w") as pid_file:  # in the working directory, tmp_path
        pid_file.write(str(os.getpid()))
    time.sleep(120)


async def stubborn_async():
    print("stubborn_async working")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # 30 s of work, whatever it is told
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            pass


def tick():
    print("tick")


REGISTERED_JOBS = [
    {"job_id": "slow_async", "func": slow_async, "cron_expression": "{slow_async_cron}"},
    {"job_id": "slow_plain", "func": slow_plain, "cron_expression": "{slow_plain_cron}"},
    {
        "job_id": "slow_process",
        "func": "{registry}:slow_process",
        "cron_expression": "{slow_process_cron}",
        "isolation": "process",
    },
    {
        "job_id": "stubborn_async",
        "func": stubborn_async,
        "cron_expression": "{stubborn_async_cron}",
    },
    {"job_id": "yearly_tick", "func": tick, "cron_expression": "0 0 1 1 *"},
]
"""

EVERY_MINUTE = "* * * * *"
YEARLY = "0 0 1 1 *"


class Headless:
    """One ``jobconsole run --headless`` process and what it printed."""

    def __init__(self, proc: asyncio.subprocess.Process, state: Path, env: dict[str, str]):
        self.proc = proc
        self.state = state
        self.env = env
        self.lines: list[str] = []

    async def read_until(self, marker: str, timeout: float = 15) -> str:
        assert self.proc.stdout is not None

        async def scan() -> str:
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"EOF before {marker!r}; output: {self.lines}")
                line = raw.decode()
                self.lines.append(line)
                if marker in line:
                    return line

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {marker!r} within {timeout}s; output: {self.lines}") from None

    async def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the exit; return the code, the rest of stdout and all of stderr."""
        out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        self.lines.extend(out.decode().splitlines(keepends=True))
        assert self.proc.returncode is not None
        return self.proc.returncode, "".join(self.lines), err.decode()


def prepare(
    tmp_path: Path,
    *,
    running: str | None = None,
    shutdown_timeout: float = 1.0,
) -> tuple[Path, dict[str, str]]:
    """A registry module and environment; ``running`` names the job to catch up at start."""
    name = f"signal_registry_{uuid.uuid4().hex[:8]}"
    crons = {
        "slow_async_cron": YEARLY,
        "slow_plain_cron": YEARLY,
        "slow_process_cron": YEARLY,
        "stubborn_async_cron": YEARLY,
        "registry": name,
    }
    if running is not None:
        crons[f"{running}_cron"] = EVERY_MINUTE
    source = REGISTRY
    for key, value in crons.items():
        source = source.replace("{" + key + "}", value)
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    state = tmp_path / "state.sqlite3"
    if running is not None:
        store = Store.open_path(state)
        store.mark_alive(datetime.now(UTC) - timedelta(seconds=90))
        store.flush()
        store.close()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JOBCONSOLE_") and k != "BACKGROUND_JOBS_ENABLED"
    }
    env.update(
        JOBCONSOLE_TIMEZONE="UTC",
        JOBCONSOLE_STATE=str(state),
        JOBCONSOLE_REGISTRY=name,
        JOBCONSOLE_MISFIRE_GRACE_SECONDS="3600",
        JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS=str(shutdown_timeout),
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )
    return state, env


async def launch(tmp_path: Path, state: Path, env: dict[str, str]) -> Headless:
    proc = await asyncio.create_subprocess_exec(
        str(JOBCONSOLE),
        "run",
        "--headless",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Headless(proc, state, env)


async def kill_and_reap(headless: Headless) -> None:
    if headless.proc.returncode is None:
        headless.proc.kill()
    await headless.proc.wait()


async def started_child(folder: Path, timeout: float = 5.0) -> int:
    """The pid of the slow_process job's child, once it has started its work."""
    pid_file = folder / "slow_process.pid"
    deadline = time.monotonic() + timeout
    while not (pid_file.exists() and pid_file.read_text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"the process job did not start within {timeout}s")
        await asyncio.sleep(0.02)
    return int(pid_file.read_text())


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs: it is gone, or a zombie waiting for init to reap it
    (once jobconsole has exited, its children's parent is init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


async def gone_within(pid: int, timeout: float) -> bool:
    """True once ``pid`` no longer runs (a kill is not instant)."""
    deadline = time.monotonic() + timeout
    while not process_gone(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def stored_executions(state: Path, job_id: str) -> list:
    store = Store.open_path(state, read_only=True)
    try:
        return store.executions(job_id=job_id, limit=10)
    finally:
        store.close()


async def history(headless: Headless) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(JOBCONSOLE),
        "history",
        cwd=headless.state.parent,
        env=headless.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err
    return out.decode()


# ---------------------------------------------------------------------------- tests


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda sig: sig.name
)
async def test_signal_shuts_down_gracefully_and_exits_0(tmp_path: Path, sig: signal.Signals):
    state, env = prepare(tmp_path)
    headless = await launch(tmp_path, state, env)
    try:
        await headless.read_until("jobconsole: running 5 job(s) in UTC")
        headless.proc.send_signal(sig)
        code, out, err = await headless.finish(timeout=10)
    finally:
        await kill_and_reap(headless)

    assert code == 0, (out, err)
    assert "jobconsole: shutting down" in out
    assert "scheduler stopped" in out
    assert "Traceback" not in err, err
    # The state was committed and released: the file opens for writing again.
    Store.open_path(state).close()


@pytest.mark.parametrize("job_id", ["slow_async", "slow_plain", "slow_process", "stubborn_async"])
async def test_sigterm_during_a_job_records_it_cancelled_and_exits_within_the_timeout(
    tmp_path: Path, job_id: str
) -> None:
    state, env = prepare(tmp_path, running=job_id, shutdown_timeout=1.0)
    headless = await launch(tmp_path, state, env)
    child = None
    try:
        await headless.read_until(f"{job_id}  running")
        await headless.read_until("jobconsole: running")
        if job_id == "slow_process":
            child = await started_child(tmp_path)
        signalled = time.monotonic()
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=10)
        took = time.monotonic() - signalled
    finally:
        await kill_and_reap(headless)

    assert code == 0, (out, err)
    assert "jobconsole: shutting down" in out
    assert f"{job_id}  cancelled" in out
    # It gave the job the 1 s shutdown timeout, then cancelled it: no longer.
    assert 0.9 <= took < 4, f"exited {took:.1f}s after SIGTERM"

    ran = [e for e in stored_executions(state, job_id) if e.started_at is not None]
    assert len(ran) == 1, ran
    (cancelled,) = ran
    assert cancelled.status is ExecutionStatus.CANCELLED
    assert cancelled.error == "cancelled: the scheduler shut down before the job finished"
    assert cancelled.ended_at is not None
    if job_id == "slow_plain":
        assert cancelled.warnings == ("its thread cannot be stopped and may still be running",)
    elif job_id == "stubborn_async":
        assert cancelled.warnings == ("it ignored its cancellation and may still be running",)
    else:
        assert cancelled.warnings == ()
    if child is not None:
        assert cancelled.output == f"pid={child}\n"
        assert await gone_within(child, 2), f"the job's process {child} outlived jobconsole"
    else:
        assert cancelled.output == f"{job_id} working\n"
    lines = await history(headless)
    assert f"{job_id}  cancelled" in lines, lines


@pytest.mark.parametrize("job_id", ["slow_plain", "slow_process"])
async def test_second_sigint_while_shutting_down_forces_the_exit(
    tmp_path: Path, job_id: str
) -> None:
    # A 30 s shutdown timeout: without the second Ctrl-C it would wait 30 s for the job.
    state, env = prepare(tmp_path, running=job_id, shutdown_timeout=30.0)
    headless = await launch(tmp_path, state, env)
    child = None
    try:
        await headless.read_until(f"{job_id}  running")
        await headless.read_until("jobconsole: running")
        if job_id == "slow_process":
            child = await started_child(tmp_path)
        headless.proc.send_signal(signal.SIGINT)
        await headless.read_until("jobconsole: shutting down")
        forced = time.monotonic()
        headless.proc.send_signal(signal.SIGINT)
        code, out, err = await headless.finish(timeout=10)
        took = time.monotonic() - forced
    finally:
        await kill_and_reap(headless)

    assert code == 130, (out, err)
    assert "jobconsole: forced exit" in err
    assert took < 2, f"exited {took:.1f}s after the second Ctrl-C"
    if child is not None:
        try:
            # A child can be killed, so forcing the exit must not leave the job running.
            assert await gone_within(child, 2), (
                f"the process job's child {child} is still running after the forced exit"
            )
        finally:
            if not process_gone(child):
                os.kill(child, signal.SIGKILL)


# ------------------------------------------------------------------------ the console


def running_now(state: Path, job_id: str) -> bool:
    return any(e.status is ExecutionStatus.RUNNING for e in stored_executions(state, job_id))


def assert_cancelled(state: Path, job_id: str, warnings: tuple[str, ...]) -> None:
    ran = [e for e in stored_executions(state, job_id) if e.started_at is not None]
    assert len(ran) == 1, ran
    (cancelled,) = ran
    assert cancelled.status is ExecutionStatus.CANCELLED, cancelled
    assert cancelled.error == "cancelled: the scheduler shut down before the job finished"
    assert cancelled.warnings == warnings
    assert cancelled.output == f"{job_id} working\n"


IGNORED = ("it ignored its cancellation and may still be running",)


@contextlib.contextmanager
def console_running(
    tmp_path: Path, running: str | None, shutdown_timeout: float, *, controlling: bool = True
) -> Iterator[tuple[Path, Console]]:
    """The console in a pty, drawn, with ``running`` under way: its state file and itself.
    It is closed on leaving; its process and what it printed stay readable."""
    state, env = prepare(tmp_path, running=running, shutdown_timeout=shutdown_timeout)
    console = Console(tmp_path, env, controlling=controlling)
    try:
        console.until(lambda: b"yearly_tick" in console.screen, "the first frame")
        if running is not None:
            console.until(lambda: running_now(state, running), f"{running} running")
        console.read_for(0.2)
        yield state, console
    finally:
        console.close()


@pytest.mark.parametrize("running", [None, "slow_async", "stubborn_async"])
def test_closing_the_terminal_shuts_down_and_exits_within_the_timeout(
    tmp_path: Path, running: str | None
) -> None:
    # The pty goes away: SIGHUP and SIGCONT come, and every write to it fails with EIO.
    with console_running(tmp_path, running, shutdown_timeout=1.0) as (state, console):
        console.hang_up()
        took = console.exit_time(timeout=15)

    assert console.proc.returncode == 0, console.proc.returncode
    # Running jobs got the 1 s shutdown timeout (and a stubborn one its 0.5 s of grace).
    assert took < 4, f"exited {took:.1f}s after the terminal closed"
    if running is not None:
        assert took >= 0.9, f"exited {took:.1f}s after the terminal closed"
        assert_cancelled(state, running, IGNORED if running == "stubborn_async" else ())
    # The state was committed and its lock released: a new jobconsole may open it.
    Store.open_path(state).close()


def test_a_terminal_gone_without_a_signal_is_noticed_at_the_first_failed_write(
    tmp_path: Path,
) -> None:
    with console_running(tmp_path, "slow_async", 1.0, controlling=False) as (state, console):
        console.hang_up()
        # No SIGHUP: the next frame (the countdowns tick each second) fails with EIO.
        took = console.exit_time(timeout=15)

    assert console.proc.returncode == 0, console.proc.returncode
    assert 0.9 <= took < 5, f"exited {took:.1f}s after the terminal closed"
    assert_cancelled(state, "slow_async", ())
    Store.open_path(state).close()


def test_quit_waits_no_longer_than_the_timeout_for_a_job_ignoring_its_cancellation(
    tmp_path: Path,
) -> None:
    with console_running(tmp_path, "stubborn_async", 1.0) as (state, console):
        console.type(b"q")
        took = console.exit_time(timeout=15)

    assert console.proc.returncode == 0, console.proc.returncode
    # The 1 s timeout, the 0.5 s a coroutine has to honour its cancellation, and no more:
    # the job's coroutine, still at its 30 s of work, does not hold the exit.
    assert 0.9 <= took < 3, f"exited {took:.1f}s after q"
    assert_cancelled(state, "stubborn_async", IGNORED)
    Store.open_path(state).close()


def test_second_q_cancels_a_job_ignoring_its_cancellation_and_exits_at_once(
    tmp_path: Path,
) -> None:
    # A 30 s shutdown timeout: without the second q it would wait 30 s for the job.
    with console_running(tmp_path, "stubborn_async", 30.0) as (state, console):
        console.type(b"q")
        console.until(lambda: b"Waiting up to 30s" in console.screen, "the quit banner")
        console.type(b"q")
        took = console.exit_time(timeout=15)

    assert console.proc.returncode == 0, console.proc.returncode
    assert took < 2, f"exited {took:.1f}s after the second q"
    assert_cancelled(state, "stubborn_async", IGNORED)
    Store.open_path(state).close()
