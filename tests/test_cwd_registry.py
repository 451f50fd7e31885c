"""A registry module in the directory the command is run from imports without
``PYTHONPATH=.``, as ``python -m`` would, though ``jobconsole`` is a console script (whose
``sys.path`` starts at its own ``bin/``): for ``list``, a ``run --headless`` host, a job
registered later by ``module:function``, and an isolated job's child, even after a job
has moved the host's working directory.

Real processes: the installed ``jobconsole`` script in a temporary directory, with no
PYTHONPATH, and a real ``RemoteClient`` of the host to steer it.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from jobs.core.control.paths import socket_path
from jobs.core.control.remote import RemoteClient
from jobs.core.records import Execution, ExecutionStatus
from tests.test_signals import JOBCONSOLE, kill_and_reap, launch
from tests.test_store import subprocess_env
from tui import attach

YEARLY = "0 0 1 1 *"

REGISTRY = """
import os

def hello():
    print("hello from the current directory")

def wander():
    os.chdir("/")

REGISTERED_JOBS = [
    {"job_id": "isolated", "func": hello, "cron_expression": "0 0 1 1 *",
     "isolation": "process"},
    {"job_id": "wander", "func": wander, "cron_expression": "0 0 1 1 *"},
]
"""

LATER = """
def task():
    print("a module first imported after the chdir")
"""


def environment(folder: Path) -> dict[str, str]:
    env = subprocess_env(
        JOBCONSOLE_STATE=str(folder / "state.sqlite3"),
        JOBCONSOLE_REGISTRY="cwdjobs",
        JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS="1",
    )
    env.pop("PYTHONPATH", None)
    return env


async def finished(client: RemoteClient, job_id: str, count: int) -> Execution:
    """The job's newest execution once it has ``count`` finished ones."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        runs = [e for e in await client.recent_executions(job_id) if e.status.is_final]
        if len(runs) >= count:
            return runs[0]
        assert asyncio.get_running_loop().time() < deadline, f"{job_id} did not finish"
        await asyncio.sleep(0.05)


async def test_a_registry_in_the_current_directory_is_found_without_pythonpath(
    tmp_path: Path,
) -> None:
    (tmp_path / "cwdjobs.py").write_text(textwrap.dedent(REGISTRY))
    (tmp_path / "later.py").write_text(textwrap.dedent(LATER))
    env = environment(tmp_path)

    listing = await asyncio.create_subprocess_exec(
        str(JOBCONSOLE),
        "list",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(listing.communicate(), 30)
    assert listing.returncode == 0, err.decode()
    assert [row.split()[0] for row in out.decode().splitlines()[1:]] == ["isolated", "wander"]
    assert "cannot be imported" not in err.decode()

    host = await launch(tmp_path, tmp_path / "state.sqlite3", env)
    client: RemoteClient | None = None
    try:
        await host.read_until("jobconsole: running 2 job(s)")
        client = await attach.connect(socket_path(tmp_path / "state.sqlite3"))
        assert client is not None
        await client.run_job_now("wander")  # the host's working directory is now /
        assert (await finished(client, "wander", 1)).status is ExecutionStatus.SUCCEEDED

        await client.run_job_now("isolated")  # a child started in /
        run = await finished(client, "isolated", 1)
        assert (run.status, run.error) == (ExecutionStatus.SUCCEEDED, None)
        assert "hello from the current directory" in run.output

        job = await client.register_job("later", "later:task", YEARLY, description="later on")
        assert job.description == "later on"
        await client.run_job_now("later")
        run = await finished(client, "later", 1)
        assert run.status is ExecutionStatus.SUCCEEDED, run.error
        assert "first imported after the chdir" in run.output
    finally:
        if client is not None:
            await client.stop()
        await kill_and_reap(host)
