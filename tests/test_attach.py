"""The console attached to a scheduler in another process: a real ``run --headless`` host,
the real app driven by Pilot on a real ``RemoteClient`` over the host's control socket.

What the console does is checked where a user would see it (rows, the log, the status
line, notifications) and where the host keeps it: through a second client of the host,
or the state file once the host has stopped. Nothing of the other side is mocked.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from jobs.core.control.paths import socket_path
from jobs.core.control.remote import RemoteClient
from jobs.core.records import EventKind, JobState, SchedulerEvent
from jobs.core.settings import Settings
from tests.console_pty import Console
from tests.test_app import status_text, toasts, type_text
from tests.test_lock import headless_env, registry
from tests.test_signals import JOBCONSOLE, Headless, kill_and_reap, launch
from tui import attach
from tui.app import JobConsoleApp
from tui.screens import ConfirmScreen, EditScheduleScreen, HelpScreen, RegisterScreen
from tui.widgets import ExecutionLog, JobTable

SIZE = (120, 35)
YEARLY = "0 0 1 1 *"

JOBS = """
import time

def tick():
    print("tick ran")

def slow():
    time.sleep(30)

REGISTERED_JOBS = [
    {"job_id": "alpha", "func": tick, "cron_expression": "0 0 1 1 *"},
    {"job_id": "beta", "func": tick, "cron_expression": "0 0 1 1 *"},
    {"job_id": "slow", "func": slow, "cron_expression": "0 0 1 1 *"},
]
"""


class Host:
    """Where a headless host runs: its folder, state file, registry and environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.state = tmp_path / "state.sqlite3"
        self.module = registry(tmp_path, JOBS)
        self.env = headless_env(tmp_path, self.state, self.module)
        self.socket = socket_path(self.state)
        self.running: list[Headless] = []

    async def start(self) -> Headless:
        headless = await launch(self.folder, self.state, self.env)
        self.running.append(headless)
        await headless.read_until("jobconsole: running 3 job(s)")
        return headless

    async def client(self, read_only: bool = False) -> RemoteClient:
        client = await attach.connect(self.socket, read_only=read_only, state=self.state)
        assert client is not None, "no host answers"
        return client

    def settings(self) -> Settings:
        """The settings this test's process would host with (as the console's ``h``)."""
        return Settings(
            timezone="UTC",
            state_path=self.state,
            registry=self.module,
            shutdown_timeout_seconds=1,
        )


@pytest.fixture
async def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Host]:
    monkeypatch.syspath_prepend(str(tmp_path))  # the registry, for a console that hosts
    host = Host(tmp_path)
    try:
        yield host
    finally:
        for headless in host.running:
            await kill_and_reap(headless)


@pytest.fixture
async def host(place: Host) -> Headless:
    return await place.start()


@pytest.fixture
async def other(place: Host, host: Headless) -> AsyncIterator[RemoteClient]:
    """A second client of the host: what another console would see."""
    client = await place.client()
    try:
        yield client
    finally:
        await client.stop()


async def attached(place: Host, read_only: bool = False) -> JobConsoleApp:
    client = await place.client(read_only=read_only)
    return JobConsoleApp(
        client, host_here=None if read_only else attach.LocalHost(place.settings())
    )


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 15) -> None:
    """Let the app (and the host) run until ``condition()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


async def host_state(client: RemoteClient, job_id: str) -> JobState | None:
    jobs = {job.job_id: job for job in await client.get_jobs()}
    return jobs[job_id].state if job_id in jobs else None


async def eventually(check: Callable[[], object], pilot: Pilot, timeout: float = 15) -> None:
    """Like ``until`` for an async check (a read from the host)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():  # type: ignore[misc]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await pilot.pause(0.05)


# -------------------------------------------------------------------- attached


async def test_every_action_of_an_attached_console_reaches_the_host(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    app = await attached(place)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_ids() == ["alpha", "beta", "slow"])
        await until(
            pilot, lambda: f"attached to pid {host.proc.pid} (run --headless)" in status_text(app)
        )
        assert "● running" in status_text(app)

        await pilot.press("p")  # alpha, the first row
        await eventually(lambda: _is(other, "alpha", JobState.PAUSED), pilot)
        await until(pilot, lambda: table.get_job("alpha").state is JobState.PAUSED)
        assert any("Paused alpha" in text for text in await toasts(pilot))

        await pilot.press("t")
        await host.read_until("alpha  succeeded")
        log = app.query_one(ExecutionLog)
        await until(
            pilot, lambda: any("alpha" in line and "succeeded" in line for line in log.lines)
        )
        assert (await other.recent_executions("alpha", limit=1))[0].status == "succeeded"

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RegisterScreen)
        await type_text(pilot, "gamma")
        await pilot.press("tab")
        await type_text(pilot, "tests.jobfuncs:quick")
        await pilot.press("tab")
        await type_text(pilot, "*/5 * * * *")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, RegisterScreen))
        assert (await other.get_job("gamma")).cron_expression == "*/5 * * * *"
        await until(pilot, lambda: table.selected_job_id == "gamma")

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EditScheduleScreen)
        await type_text(pilot, "0 12 * * 1")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, EditScheduleScreen))
        assert (await other.get_job("gamma")).cron_expression == "0 12 * * 1"
        await until(pilot, lambda: table.get_job("gamma").cron_expression == "0 12 * * 1")

        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await eventually(lambda: _gone(other, "gamma"), pilot)
        await until(pilot, lambda: table.get_job("gamma") is None)
    assert host.proc.returncode is None, "the app's end stopped the host"


async def _is(client: RemoteClient, job_id: str, state: JobState) -> bool:
    return await host_state(client, job_id) is state


async def _gone(client: RemoteClient, job_id: str) -> bool:
    return await host_state(client, job_id) is None


async def test_the_register_form_sends_its_options_to_the_host_and_shows_its_refusals(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    app = await attached(place)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_count == 3)
        assert f" │ {place.state} │ " in status_text(app)  # the host's state file
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RegisterScreen)
        for value in ("gamma", "tests.jobfuncs:quick", YEARLY, "Yearly sweep", "Mars/Base"):
            await type_text(pilot, value)
            await pilot.press("tab")
        await type_text(pilot, "45")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert "unknown time zone 'Mars/Base'" in form.field_error("timezone")
        assert "gamma" not in [job.job_id for job in await other.get_jobs()]

        form.query_one("#timezone", Input).value = "Asia/Tokyo"
        form.query_one("#timeout", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, RegisterScreen))
        job = await other.get_job("gamma")
        assert (job.description, job.timezone, job.timeout_seconds) == (
            "Yearly sweep",
            "Asia/Tokyo",
            45.0,
        )
        await until(pilot, lambda: table.selected_job_id == "gamma")


async def test_a_change_by_another_client_shows_in_the_console_and_back(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    heard: list[SchedulerEvent] = []
    other.subscribe(heard.append)
    app = await attached(place)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_count == 3)
        await other.pause_job("beta")  # as a second console would
        await until(pilot, lambda: table.get_job("beta").state is JobState.PAUSED)
        await pilot.press("p")  # alpha, the first row
        await until(
            pilot,
            lambda: any(e.kind is EventKind.JOB_PAUSED and e.job_id == "alpha" for e in heard),
        )
        assert (await other.get_job("alpha")).state is JobState.PAUSED


async def test_quitting_an_attached_console_leaves_the_host_and_its_jobs_running(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    app = await attached(place)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_count == 3)
        table.select("slow")
        await pilot.press("t")
        await until(pilot, lambda: table.get_job("slow").state is JobState.RUNNING)
        await pilot.press("q")
        assert not any("Waiting up to" in text for text in await toasts(pilot))
        await until(pilot, lambda: not app.is_running)
    assert host.proc.returncode is None
    assert await host_state(other, "slow") is JobState.RUNNING
    status = other.status()
    assert status.connected and status.host_pid == host.proc.pid


# ------------------------------------------------------------- losing the host


async def test_a_killed_host_is_said_plainly_and_a_new_one_is_attached_to(
    place: Host, host: Headless
) -> None:
    app = await attached(place)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await until(pilot, lambda: table.job_count == 3)
        host.proc.send_signal(signal.SIGKILL)
        await host.proc.wait()
        await until(pilot, lambda: "host lost" in status_text(app))
        assert f"pid {host.proc.pid} (run --headless) went away" in status_text(app)
        lost = [line for line in log.lines if "lost the scheduler" in line]
        assert len(lost) == 1 and "press h to schedule the jobs here" in lost[0]
        assert table.job_ids() == ["alpha", "beta", "slow"], "the last picture stays"
        await pilot.press("p")
        assert any("has gone" in text for text in await toasts(pilot))
        # The footer is recomposed a turn after the bindings change: wait for it.
        await until(pilot, lambda: any(key.key == "h" for key in app.query("FooterKey")))

        second = await place.start()
        await until(pilot, lambda: f"attached to pid {second.proc.pid}" in status_text(app))
        await until(
            pilot, lambda: any("again; jobs and history reloaded" in line for line in log.lines)
        )
        assert table.job_ids() == ["alpha", "beta", "slow"]
        await until(pilot, lambda: not any(key.key == "h" for key in app.query("FooterKey")))
        await pilot.press("p")
        await until(pilot, lambda: table.get_job("alpha").state is JobState.PAUSED)


async def test_h_schedules_here_once_the_host_has_gone(place: Host, host: Headless) -> None:
    app = await attached(place)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_count == 3)
        await pilot.press("h")
        assert any(
            f"pid {host.proc.pid} (run --headless) schedules" in t for t in await toasts(pilot)
        )
        host.proc.send_signal(signal.SIGKILL)
        await host.proc.wait()
        await until(pilot, lambda: "host lost" in status_text(app))
        await pilot.press("h")
        await until(pilot, lambda: "● running" in status_text(app))
        assert "attached" not in status_text(app)
        assert not app.client.status().attached
        # Another process finds this one hosting, as a console.
        proc = await asyncio.create_subprocess_exec(
            str(JOBCONSOLE),
            "status",
            cwd=place.folder,
            env=place.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err
        assert f"pid {os.getpid()} (console)" in out.decode()
        await pilot.press("t")  # alpha runs here now
        log = app.query_one(ExecutionLog)
        await until(
            pilot, lambda: any("alpha" in line and "succeeded" in line for line in log.lines)
        )


# ------------------------------------------------------------------ read-only


async def test_read_only_refuses_every_change_and_does_not_offer_them(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    app = await attached(place, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: table.job_count == 3)
        assert "attached to pid" in status_text(app) and "read-only" in status_text(app)

        def footer() -> set[str]:
            return {key.key for key in app.query("FooterKey")}

        await until(pilot, lambda: {"enter", "question_mark", "q"} <= footer())
        assert not footer() & {"n", "p", "r", "t", "e", "d", "h"}, footer()
        for key, action in [("p", "pause a job"), ("t", "run a job"), ("n", "register a job")]:
            await pilot.press(key)
            assert not isinstance(app.screen, RegisterScreen)
            texts = await toasts(pilot)
            assert any(f"attached read-only: cannot {action}" in text for text in texts), texts
        assert await host_state(other, "alpha") is JobState.SCHEDULED
        assert [e.trigger for e in await other.recent_executions("alpha")] == []
        names = [name for name, _, _ in app.palette_commands()]
        assert "Pause the selected job" not in names and "Show every key" in names
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert [title for title, _ in app.help_sections()][-1] == "Not while attached read-only"


# ------------------------------------------------------------- the real command


async def test_jobconsole_in_a_terminal_attaches_and_q_only_detaches(
    place: Host, host: Headless, other: RemoteClient
) -> None:
    console = Console(place.folder, place.env)
    try:
        console.until(lambda: b"attached to pid" in console.screen, "the attached console")
        assert f"attached to pid {host.proc.pid} (run --headless)".encode() in console.screen
        assert b"alpha" in console.screen
        console.type(b"q")
        console.exit_time(15)
        assert console.proc.returncode == 0
    finally:
        console.close()
    assert host.proc.returncode is None
    assert other.status().connected and len(await other.get_jobs()) == 3
