"""One scheduler per state file, also under tricks (issue 11, item 5).

Deleting the lock file must not let a second scheduler start, and a job that forks must
leave a child that neither schedules nor keeps the state file from the next scheduler.
Real processes throughout: ``jobconsole run --headless`` and small scripts over ``Store``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core.records import Execution, ExecutionStatus
from jobs.core.store import StateLockedError, Store, reset_state
from tests.test_signals import gone_within, kill_and_reap, launch, process_gone
from tests.test_store import python_script, read_until, subprocess_env

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _execution(store: Store, job_id: str) -> Execution:
    return Execution(
        id=store.next_execution_id(),
        job_id=job_id,
        status=ExecutionStatus.SUCCEEDED,
        scheduled_time=NOW,
        started_at=NOW,
        ended_at=NOW + timedelta(seconds=1),
    )


def test_deleting_the_lock_file_does_not_free_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    holder = Store.open_path(path)
    try:
        (tmp_path / "state.sqlite3.lock").unlink()
        with pytest.raises(StateLockedError) as info:
            Store.open_path(path)
        assert str(path) in str(info.value)
        assert f"pid {os.getpid()}" in str(info.value)
        with pytest.raises(StateLockedError):
            reset_state(path)
        assert path.exists()
    finally:
        holder.close()
    Store.open_path(path).close()  # free once the holder let go


def registry(folder: Path, source: str) -> str:
    name = f"lock_registry_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def headless_env(tmp_path: Path, state: Path, module: str) -> dict[str, str]:
    return subprocess_env(
        JOBCONSOLE_STATE=str(state),
        JOBCONSOLE_REGISTRY=module,
        JOBCONSOLE_MISFIRE_GRACE_SECONDS="3600",
        JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS="1",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )


YEARLY_TICK = """
def tick():
    print("tick")

REGISTERED_JOBS = [{"job_id": "tick", "func": tick, "cron_expression": "0 0 1 1 *"}]
"""


async def test_deleting_the_lock_file_under_a_headless_run_does_not_let_a_second_start(
    tmp_path: Path,
) -> None:
    """The second waits (issue 13) instead of refusing; it schedules only once the first
    is gone, however long the lock file has been missing."""
    state = tmp_path / "state.sqlite3"
    env = headless_env(tmp_path, state, registry(tmp_path, YEARLY_TICK))
    first = await launch(tmp_path, state, env)
    second = None
    try:
        await first.read_until("jobconsole: running 1 job(s)")
        (tmp_path / "state.sqlite3.lock").unlink()
        second = await launch(tmp_path, state, env)
        line = await second.read_until("waiting to take over")
        assert str(state) in line
        assert f"in use by pid {first.proc.pid};" in line  # its role was in the lock file
        await asyncio.sleep(3)  # three tries at the hold, each refused
        assert second.proc.returncode is None
        assert not [row for row in second.lines if "running" in row], "two schedulers"
        first.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.proc.wait(), 15) == 0
        await second.read_until("jobconsole: running 1 job(s)")
        second.proc.send_signal(signal.SIGTERM)
        code, out, err = await second.finish(timeout=15)
        assert code == 0, (out, err)
    finally:
        await kill_and_reap(first)
        if second is not None:
            await kill_and_reap(second)


FORK_SCRIPT = """
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from jobs.core.records import Execution, ExecutionStatus
from jobs.core.store import Store


def row(store, job_id):
    now = datetime.now(UTC)
    return Execution(
        id=store.next_execution_id(), job_id=job_id, status=ExecutionStatus.SUCCEEDED,
        scheduled_time=now, started_at=now, ended_at=now,
    )


store = Store.open_path(Path(sys.argv[1]))
child = os.fork()
if child == 0:  # a copy that goes on as a forked job's child would, and ends cleanly
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the test reads the parent's stdout
    store.record_execution(row(store, "child"))
    store.flush(timeout=5)
    store.close()
    os._exit(0)
os.waitpid(child, 0)
print("CHILD DONE", flush=True)
sys.stdin.read()
store.record_execution(row(store, "parent"))
store.flush()
store.close()
"""


async def test_a_forked_copy_of_the_store_writes_nothing_and_keeps_the_parents_hold(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    proc = await python_script(tmp_path, FORK_SCRIPT, str(path), stdin=True, PYTHONPATH=str(REPO))
    try:
        await read_until(proc.stdout, "CHILD DONE")
        with pytest.raises(StateLockedError) as info:  # the child's close freed nothing
            Store.open_path(path)
        assert f"pid {proc.pid}" in str(info.value)
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    reader = Store.open_path(path, read_only=True)
    try:
        assert [e.job_id for e in reader.executions()] == ["parent"]
    finally:
        reader.close()


FORKING_JOBS = """
import asyncio
import os
import time
from pathlib import Path


async def forker():
    if Path("child.pid").exists():
        return  # fork once, however often it runs
    loop = asyncio.get_running_loop()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the test waits for the end of the parent's output
        os.dup2(devnull, 2)
        Path("child.tmp").write_text(str(os.getpid()))
        os.rename("child.tmp", "child.pid")
        deadline = time.monotonic() + 60

        def linger():  # this copy of the loop goes on until the test says stop
            if Path("stop").exists() or time.monotonic() > deadline:
                os._exit(0)
            loop.call_later(0.05, linger)

        linger()
        return  # back into the loop, as a job that forks and returns would
    print(f"forked {pid}")


async def tick():
    with open("tick.pids", "a") as pids:
        pids.write(f"{os.getpid()}\\n")


REGISTERED_JOBS = [
    {"job_id": "forker", "func": forker, "cron_expression": "* * * * *"},
    {"job_id": "tick", "func": tick, "cron_expression": "* * * * *"},
]
"""


async def child_pid(pid_file: Path, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while not pid_file.exists():  # written by the child, renamed into place whole
        assert time.monotonic() < deadline, "the job's forked child did not start"
        await asyncio.sleep(0.02)
    return int(pid_file.read_text())


async def test_a_job_that_forks_leaves_a_child_that_never_schedules_nor_holds_the_file(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.sqlite3"
    # Last alive 90 s ago: start-up catches up both every-minute jobs at once, in the same
    # loop iteration, so tick is due when forker forks.
    store = Store.open_path(state)
    store.mark_alive(datetime.now(UTC) - timedelta(seconds=90))
    store.flush()
    store.close()
    env = headless_env(tmp_path, state, registry(tmp_path, FORKING_JOBS))
    first = await launch(tmp_path, state, env)
    second = None
    child = None
    try:
        await first.read_until("forker  succeeded")
        child = await child_pid(tmp_path / "child.pid")
        await first.read_until("tick  succeeded")
        await asyncio.sleep(1.0)  # the child's copy of the loop runs meanwhile
        first.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.proc.wait(), 10)
        assert not process_gone(child), "the forked child should still be running"

        second = await launch(tmp_path, state, env)
        await second.read_until("jobconsole: running 2 job(s)")  # not refused
        second.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.proc.wait(), 15) == 0
    finally:
        (tmp_path / "stop").write_text("")
        await kill_and_reap(first)
        if second is not None:
            await kill_and_reap(second)
    assert await gone_within(child, 10), "the child's loop stopped running"
    ran_in = (tmp_path / "tick.pids").read_text().split()
    assert str(child) not in ran_in, "tick ran in the forked child"
    assert str(first.proc.pid) in ran_in  # (and again if a minute began meanwhile)
    reader = Store.open_path(state, read_only=True)
    try:
        ticks = reader.executions(job_id="tick")
    finally:
        reader.close()
    assert len([e for e in ticks if e.status is ExecutionStatus.SUCCEEDED]) == len(ran_in)


CHILD_OF_A_SERVICE = """
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store


def tick():
    with open("tick.pids", "a") as pids:
        pids.write(f"{os.getpid()} ")


async def main(path):
    settings = Settings(timezone="UTC", state_path=path)
    service = SchedulerService(settings, store=Store.open_path(path))
    service.register_job("tick", tick, "0 0 1 1 *")
    built_before_the_fork = SchedulerService(settings, store=service.store)
    service.start()
    loop = asyncio.get_running_loop()
    child = os.fork()
    if child == 0:
        service.subscribe(lambda event: print(f"CHILD EVENT {event.kind}", flush=True))

        async def in_a_loop_of_its_own():
            for attempt in (lambda: service.run_job_now("tick"), built_before_the_fork.start):
                try:
                    attempt()
                    print("CHILD RAN", flush=True)
                except RuntimeError as exc:
                    print(f"CHILD REFUSED {exc}", flush=True)

        asyncio.run(in_a_loop_of_its_own())
        # Back in this copy of the first loop, the minute comes for its scheduler too.
        service._scheduler.modify_job("tick", next_run_time=datetime.now(UTC))
        loop.call_later(0.5, os._exit, 0)
        await loop.create_future()
    await asyncio.to_thread(os.waitpid, child, 0)
    service.run_job_now("tick")
    await asyncio.sleep(0.5)
    await service.shutdown()


asyncio.run(main(Path(sys.argv[1])))
"""


async def test_a_forked_copy_of_a_service_fires_and_runs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    proc = await python_script(tmp_path, CHILD_OF_A_SERVICE, str(path), PYTHONPATH=str(REPO))
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 2, lines  # no CHILD RAN, no CHILD EVENT
    assert lines[0].startswith("CHILD REFUSED") and "is a fork of the scheduler" in lines[0]
    assert lines[1].startswith("CHILD REFUSED") and "in a forked child" in lines[1]
    assert (tmp_path / "tick.pids").read_text().split() == [str(proc.pid)]
    reader = Store.open_path(path, read_only=True)
    try:
        statuses = [e.status for e in reader.executions(job_id="tick")]
    finally:
        reader.close()
    assert statuses == [ExecutionStatus.SUCCEEDED]
