"""Many processes on one state file, one scheduler (issue 13, item 5): real processes.

Each embedder is a small script over ``SchedulerService()`` (settings from the
environment, as a web app's are) that prints what its service hears and takes orders on
stdin; the hold is the real one (flock and abstract socket), the deaths real SIGKILLs.
The state file is the judge of what ran. The FastAPI example under a real uvicorn is in
``test_fastapi_example.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.core import standby as standby_module
from jobs.core.errors import StandbyError
from jobs.core.lock import holder
from jobs.core.records import ExecutionStatus
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store
from tests.console_pty import Console
from tests.test_lock import headless_env
from tests.test_signals import kill_and_reap, launch
from tests.test_store import subprocess_env

REPO = Path(__file__).resolve().parents[1]

JOBS = """
import asyncio


async def slow():
    await asyncio.sleep(120)


def quick():
    print("quick ran")


REGISTERED_JOBS = [
    {"job_id": "slow", "func": slow, "cron_expression": "0 0 1 1 *"},
    {"job_id": "quick", "func": quick, "cron_expression": "0 0 1 1 *"},
]
"""

EMBEDDER = """
import asyncio
import os
import sys

from jobs import SchedulerService
from jobs.core.errors import StandbyError


async def main():
    service = SchedulerService()
    service.load_registry()
    service.subscribe(lambda e: print(f"EVENT {e.kind}|{e.job_id or ''}|{e.message}", flush=True))
    service.start()
    print(f"START {service.run_state}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        verb, _, job_id = line.partition(" ")
        try:
            if verb == "run":
                print(f"RAN {service.run_job_now(job_id).id}", flush=True)
            elif verb == "state":
                print(f"STATE {service.run_state}", flush=True)
        except StandbyError as exc:
            print(f"REFUSED {exc}", flush=True)
    await service.shutdown()
    print("BYE", flush=True)


asyncio.run(main())
"""


class Embedder:
    """One process embedding the service; ``expect`` reads its lines up to a marker."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def expect(self, marker: str, timeout: float = 15) -> str:
        assert self.proc.stdout is not None

        async def scan() -> str:
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"EOF before {marker!r}; output: {self.lines}")
                self.lines.append(raw.decode())
                if marker in self.lines[-1]:
                    return self.lines[-1]

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {marker!r} within {timeout}s; output: {self.lines}") from None

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())

    def said(self, marker: str) -> bool:
        return any(marker in line for line in self.lines)


@pytest.fixture
async def embed(tmp_path: Path) -> AsyncIterator:  # type: ignore[type-arg]
    """``await embed()``: a new embedding process on ``tmp_path/state.sqlite3``; each is
    killed at the end, whatever happened."""
    name = f"workers_registry_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(JOBS))
    (tmp_path / "embedder.py").write_text(EMBEDDER)
    env = subprocess_env(
        JOBCONSOLE_STATE=str(tmp_path / "state.sqlite3"),
        JOBCONSOLE_REGISTRY=name,
        JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS="1",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )
    started: list[Embedder] = []

    async def make() -> Embedder:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(tmp_path / "embedder.py"),
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        started.append(Embedder(proc))
        return started[-1]

    yield make
    for embedder in started:
        if embedder.proc.returncode is None:
            embedder.proc.kill()
        await embedder.proc.wait()


def executions(state: Path, job_id: str | None = None) -> list:  # type: ignore[type-arg]
    reader = Store.open_path(state, read_only=True)
    try:
        return reader.executions(job_id=job_id, limit=1000)
    finally:
        reader.close()


async def committed(state: Path, job_id: str, statuses: list[ExecutionStatus]) -> None:
    """Until the state file holds exactly ``statuses`` for ``job_id`` (newest first): the
    writer commits a moment after the event is heard."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (found := [e.status for e in executions(state, job_id)]) != statuses:
        assert loop.time() < deadline, f"{job_id}: {found} in the state file, not {statuses}"
        await asyncio.sleep(0.05)


async def test_two_processes_one_schedules_and_the_other_takes_over_after_a_sigkill(
    tmp_path: Path, embed
) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.sqlite3"
    first = await embed()
    await first.expect("START started")
    second = await embed()
    line = await second.expect("EVENT warning")
    assert f"standing by: pid {first.pid}, an app embedding SchedulerService schedules" in line
    await second.expect("START standby")

    second.send("run quick")
    refused = await second.expect("REFUSED")
    assert f"cannot run 'quick' now: this process (pid {second.pid}) stands by" in refused
    assert f"pid {first.pid}, an app embedding SchedulerService schedules" in refused
    first.send("run slow")
    await first.expect("EVENT started|slow")
    await committed(state, "slow", [ExecutionStatus.RUNNING])  # then a kill cuts it short
    loop = asyncio.get_running_loop()

    first.proc.send_signal(signal.SIGKILL)
    await first.proc.wait()
    killed = loop.time()
    line = await second.expect("EVENT scheduler started", timeout=10)
    assert loop.time() - killed < 10
    assert f"took over from pid {first.pid}, an app embedding SchedulerService (gone)" in line
    assert second.said("was interrupted by the last shutdown")
    assert holder(state) == (second.pid, os.getuid())

    second.send("run quick")
    await second.expect("EVENT succeeded|quick")
    await committed(state, "quick", [ExecutionStatus.SUCCEEDED])
    # The dead host's run, recorded as cut short and never run again.
    assert [e.status for e in executions(state, "slow")] == [ExecutionStatus.INTERRUPTED]
    second.proc.stdin.close()
    await second.expect("BYE")
    assert await asyncio.wait_for(second.proc.wait(), 15) == 0


async def test_a_standby_never_names_a_dead_process_as_the_one_that_schedules(
    tmp_path: Path, embed, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Between two tries at the hold, the scheduling process can die and another take the
    file (under uvicorn, the dead worker's replacement): what the standby says (a web
    app's "who schedules" answer, its refusals) names who holds the file now."""
    monkeypatch.setattr(standby_module, "RETRY_SECONDS", 3600.0)  # no try during the test
    state = tmp_path / "state.sqlite3"
    first = await embed()
    await first.expect("START started")
    service = SchedulerService(Settings(timezone="UTC", state_path=state), durable=True)
    service.start()
    try:
        assert service.run_state == "standby"
        assert service.standby is not None and service.standby.holder_pid == first.pid

        first.proc.send_signal(signal.SIGKILL)
        await first.proc.wait()
        assert service.standby.holder_pid is None, "a dead process named as the holder"
        assert "pid unknown" in service.standby.message

        second = await embed()
        await second.expect("START started")
        assert service.standby.holder_pid == second.pid
        with pytest.raises(StandbyError) as refused:
            service.run_job_now("quick")
        assert f"pid {second.pid}, an app embedding SchedulerService schedules" in str(
            refused.value
        )
    finally:
        await service.shutdown()


async def test_a_standbys_shutdown_just_stops_it_trying(tmp_path: Path, embed) -> None:  # type: ignore[no-untyped-def]
    first = await embed()
    await first.expect("START started")
    second = await embed()
    await second.expect("START standby")
    second.proc.stdin.close()
    await second.expect("stopped standing by")
    await second.expect("BYE")
    assert await asyncio.wait_for(second.proc.wait(), 15) == 0
    first.send("run quick")  # the holder goes on as before
    await first.expect("EVENT succeeded|quick")
    assert not second.said("scheduler started")


async def test_deleting_the_lock_file_while_two_run_never_gives_two_schedulers(
    tmp_path: Path, embed
) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.sqlite3"
    first = await embed()
    await first.expect("START started")
    second = await embed()
    await second.expect("START standby")
    (tmp_path / "state.sqlite3.lock").unlink()
    third = await embed()  # comes after the deletion: the socket still says no
    await third.expect("START standby")
    await asyncio.sleep(3)  # a few tries each
    for standby in (second, third):
        standby.send("state")
        await standby.expect("STATE standby")
        assert not standby.said("scheduler started")

    first.proc.send_signal(signal.SIGKILL)
    await first.proc.wait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while holder(state) in (None, (first.pid, os.getuid())):
        assert loop.time() < deadline, "nobody took over"
        await asyncio.sleep(0.05)
    winner, loser = (second, third) if holder(state)[0] == second.pid else (third, second)
    await winner.expect("EVENT scheduler started")
    await asyncio.sleep(2.5)  # the other keeps trying, and keeps being refused
    loser.send("state")
    await loser.expect("STATE standby")
    assert not loser.said("scheduler started")
    winner.send("run quick")
    loser.send("run quick")
    await winner.expect("EVENT succeeded|quick")
    await loser.expect("REFUSED")
    await committed(state, "quick", [ExecutionStatus.SUCCEEDED])


# ------------------------------------------------------------------ run --headless


async def test_run_headless_beside_a_headless_waits_and_exits_cleanly_on_sigint(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite3"
    name = f"workers_registry_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(JOBS))
    env = headless_env(tmp_path, state, name)
    first = await launch(tmp_path, state, env)
    second = None
    try:
        await first.read_until("jobconsole: running 2 job(s)")
        second = await launch(tmp_path, state, env)
        line = await second.read_until("waiting to take over")
        assert line == (
            f"jobconsole: state file {state} is in use by pid {first.proc.pid}, jobconsole "
            "run --headless; waiting to take over when it stops (Ctrl-C to stop)\n"
        )
        second.proc.send_signal(signal.SIGINT)
        code, out, err = await second.finish(timeout=15)
        assert code == 0, (out, err)
        assert "running" not in out and err == ""
        assert first.proc.returncode is None
    finally:
        await kill_and_reap(first)
        if second is not None:
            await kill_and_reap(second)


async def test_run_headless_beside_a_hosting_console_waits_and_takes_over_when_it_quits(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite3"
    name = f"workers_registry_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(JOBS))
    env = headless_env(tmp_path, state, name)
    console = Console(tmp_path, env)
    headless = None
    try:
        await asyncio.to_thread(
            console.until, lambda: holder(state) is not None, "the console holding the file"
        )
        headless = await launch(tmp_path, state, env)
        line = await headless.read_until("waiting to take over")
        assert f"in use by pid {console.proc.pid}, a jobconsole console;" in line
        await asyncio.sleep(1.5)
        assert headless.proc.returncode is None
        console.type(b"q")
        await asyncio.to_thread(console.exit_time, 20)
        await headless.read_until("jobconsole: running 2 job(s)", timeout=10)
        assert holder(state) == (headless.proc.pid, os.getuid())
        headless.proc.send_signal(signal.SIGTERM)
        code, out, err = await headless.finish(timeout=15)
        assert code == 0, (out, err)
        assert "took over from pid" in out
    finally:
        console.close()
        if headless is not None:
            await kill_and_reap(headless)
