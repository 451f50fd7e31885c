"""The command line's verbs, as a user types them, with a real ``run --headless`` host and
with none: ``status``, ``pause``, ``resume``, ``run``, ``remove``, ``reschedule``.

Real processes throughout: the host and every command are ``jobconsole`` subprocesses on
a real state file and its real control socket; what the host did is read back through
another command, or from the state file once the host has stopped.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.core.control.paths import socket_path
from jobs.core.store import Store
from tests.test_lock import headless_env, registry
from tests.test_signals import JOBCONSOLE, Headless, kill_and_reap, launch

JOBS = """
def tick():
    print("tick")

REGISTERED_JOBS = [
    {"job_id": "tick", "func": tick, "cron_expression": "0 0 1 1 *"},
    {"job_id": "other", "func": tick, "cron_expression": "0 0 1 1 *"},
]
"""


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path
        self.state = tmp_path / "state.sqlite3"
        self.env = headless_env(tmp_path, self.state, registry(tmp_path, JOBS))

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        """``jobconsole ARGS``: its exit status, stdout and stderr."""
        proc = await asyncio.create_subprocess_exec(
            str(JOBCONSOLE),
            *args,
            cwd=self.folder,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert "Traceback" not in err.decode(), err.decode()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    def stored(self, job_id: str):  # type: ignore[no-untyped-def]
        """The job's row in the state file (read alongside any host)."""
        store = Store.open_path(self.state, read_only=True)
        try:
            return {row.job_id: row for row in store.load_jobs()}.get(job_id)
        finally:
            store.close()


@pytest.fixture
def jc(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


@pytest.fixture
async def host(jc: Setup) -> AsyncIterator[Headless]:
    """A ``jobconsole run --headless`` on the state file, killed at the end."""
    headless = await launch(jc.folder, jc.state, jc.env)
    try:
        await headless.read_until("jobconsole: running 2 job(s)")
        yield headless
    finally:
        await kill_and_reap(headless)


def lines(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


# ------------------------------------------------------------------ with a host


async def test_status_names_the_host_its_uptime_socket_and_jobs(jc: Setup, host: Headless) -> None:
    code, out, err = await jc("status")
    assert (code, err) == (0, ""), out
    fields = {key: value.strip() for key, value in lines(out).items()}
    assert fields["scheduler"].startswith(f"pid {host.proc.pid} (run --headless), up ")
    assert fields["socket"] == str(socket_path(jc.state))
    assert fields["timezone"] == "UTC"
    assert fields["jobs"] == "2 (2 scheduled)"
    assert fields["state"] == "scheduling"


async def test_the_verbs_act_on_the_host_at_once(jc: Setup, host: Headless) -> None:
    code, out, _ = await jc("pause", "tick")
    assert code == 0 and out.startswith("paused tick"), out
    assert "next start" not in out
    _, out, _ = await jc("status")
    assert "1 scheduled, 1 paused" in out
    code, out, _ = await jc("pause", "tick")
    assert (code, out.strip()) == (0, "tick was already paused")
    code, out, _ = await jc("resume", "tick")
    assert code == 0 and out.startswith("resumed tick; next run "), out

    code, out, _ = await jc("reschedule", "other", "*/5 * * * *")
    assert code == 0, out
    assert out.startswith("rescheduled other to */5 * * * *: Every 5 minutes; next run ")

    code, out, _ = await jc("run", "tick")
    assert code == 0 and out.startswith("started tick (execution #"), out
    await host.read_until("tick  succeeded")

    code, out, _ = await jc("remove", "other")
    assert (code, out.strip()) == (0, "removed other")
    _, out, _ = await jc("status")
    assert "jobs:      1 (1 scheduled)" in out
    host.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(host.proc.wait(), 15) == 0
    assert jc.stored("other").removed
    assert jc.stored("tick").cron_expression == "0 0 1 1 *"


async def test_bad_input_exits_2_with_the_librarys_message_and_changes_nothing(
    jc: Setup, host: Headless
) -> None:
    code, out, err = await jc("pause", "nosuch")
    assert (code, out) == (2, "")
    assert err.strip() == "jobconsole: no job with id 'nosuch' is registered"
    code, out, err = await jc("reschedule", "tick", "61 * * * *")
    assert (code, out) == (2, "")
    assert "minute field: 61 is out of range 0-59" in err
    code, out, err = await jc("run", "nosuch")
    assert code == 2 and "no job with id 'nosuch'" in err
    _, out, _ = await jc("status")
    assert "2 (2 scheduled)" in out


async def test_connect_reaches_a_socket_named_on_the_command_line(
    jc: Setup, host: Headless, tmp_path: Path
) -> None:
    socket = str(socket_path(jc.state))
    elsewhere = {**jc.env, "JOBCONSOLE_STATE": str(tmp_path / "another" / "state.sqlite3")}
    jc.env = elsewhere  # the local settings name another file: only --connect finds the host
    code, out, _ = await jc("status", "--connect", socket)
    assert code == 0 and f"pid {host.proc.pid}" in out
    code, out, _ = await jc("--connect", socket, "pause", "tick")
    assert code == 0 and out.startswith("paused tick"), out
    code, _, err = await jc("status", "--connect", str(tmp_path / "nobody.sock"))
    assert code == 3
    assert f"no scheduler answers on {tmp_path / 'nobody.sock'}" in err


# ------------------------------------------------------------------- no host


async def test_status_and_run_without_a_scheduler_exit_3_with_a_sentence(jc: Setup) -> None:
    code, out, err = await jc("status")
    assert (code, out) == (3, "")
    assert f"no scheduler is running on {jc.state}" in err
    code, out, err = await jc("run", "tick")
    assert (code, out) == (3, "")
    assert "nothing can run 'tick' now" in err and "jobconsole run --headless" in err


async def test_changes_without_a_scheduler_are_kept_for_the_next_start(jc: Setup) -> None:
    note = "no scheduler is running; the change is kept for the next start"
    code, out, _ = await jc("pause", "tick")
    assert (code, out.strip()) == (
        0,
        f"paused tick: it does not run on schedule until resumed; {note}",
    )
    code, out, _ = await jc("reschedule", "other", "*/5 * * * *")
    assert code == 0 and out.rstrip().endswith(note), out
    code, out, err = await jc("reschedule", "other", "*/5 * * *")
    assert code == 2 and out == "" and "expected 5 fields" in err
    code, out, err = await jc("remove", "nosuch")
    assert (code, err.strip()) == (2, "jobconsole: no job with id 'nosuch' is registered")
    assert jc.stored("tick").paused
    assert jc.stored("other").cron_expression == "*/5 * * * *"
    # The next scheduler starts with them.
    headless = await launch(jc.folder, jc.state, jc.env)
    try:
        await headless.read_until("jobconsole: running 2 job(s)")
        _, out, _ = await jc("status")
        assert "2 (1 scheduled, 1 paused)" in out
        code, out, _ = await jc("resume", "tick")
        assert code == 0 and note not in out
    finally:
        await kill_and_reap(headless)
    code, out, _ = await jc("remove", "other")
    assert (code, out.strip()) == (0, f"removed other; {note}")
    assert jc.stored("other").removed


async def test_enable_and_disable_act_on_the_host_and_say_so(jc: Setup, host: Headless) -> None:
    code, out, _ = await jc("disable", "tick")
    assert (code, out.strip()) == (0, "disabled tick: it does not run on schedule until enabled")
    _, out, _ = await jc("status")
    assert "2 (1 scheduled, 1 disabled)" in out
    code, out, _ = await jc("disable", "tick")
    assert (code, out.strip()) == (0, "tick was already disabled")
    code, out, _ = await jc("enable", "tick")
    assert code == 0 and out.startswith("enabled tick: it runs on schedule again; next run "), out
    code, out, _ = await jc("enable", "tick")
    assert (code, out.strip()) == (0, "tick was already enabled (it is scheduled)")
    code, out, err = await jc("disable", "nosuch")
    assert (code, out) == (2, "")
    assert err.strip() == "jobconsole: no job with id 'nosuch' is registered"
    await host.read_until("tick  job enabled")


async def test_enable_and_disable_without_a_scheduler_are_kept_for_the_next_start(
    jc: Setup,
) -> None:
    note = "no scheduler is running; the change is kept for the next start"
    code, out, _ = await jc("disable", "tick")
    assert (code, out.strip()) == (
        0,
        f"disabled tick: it does not run on schedule until enabled; {note}",
    )
    assert jc.stored("tick").options.enabled is False
    code, out, err = await jc("enable", "nosuch")
    assert (code, out) == (2, "")
    assert err.strip() == "jobconsole: no job with id 'nosuch' is registered"
    headless = await launch(jc.folder, jc.state, jc.env)
    try:
        await headless.read_until("jobconsole: running 1 job(s)")
        _, out, _ = await jc("status")
        assert "2 (1 scheduled, 1 disabled)" in out
    finally:
        await kill_and_reap(headless)
    code, out, _ = await jc("enable", "tick")
    assert (code, out.strip()) == (0, f"enabled tick: it runs on schedule again; {note}")
    assert jc.stored("tick").options.enabled is True


async def test_the_verbs_import_no_textual(jc: Setup) -> None:
    probe = (
        "import sys; from tui import cli; code = cli.main(['status']); "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        probe,
        cwd=jc.folder,
        env=jc.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert out.decode().strip() == "False"
