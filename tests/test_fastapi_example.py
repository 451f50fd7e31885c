"""The README's FastAPI example under a real ``uvicorn --workers 3`` on one state file
(issue 13, items 4 and 5): exactly one worker schedules, the others stand by; SIGKILL of
the scheduling worker and another takes over within 10 s; across many runs and the kill,
no run is lost or doubled.

Runs are driven with run-now (no wall-clock minute), two ways: through the app's own
route, which lands on whichever worker the kernel gives it to (a standby refuses it with
503, naming the worker that schedules, and the test asks again), and through the control
API that the scheduling worker serves on the state file's socket (the takeover serves it
too). Every accepted run must be exactly one execution in the state file, and every
execution exactly one call of the job's code (the job writes its pid to a file of its
own).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.core.control.paths import socket_path
from jobs.core.control.remote import RemoteClient
from jobs.core.lock import holder
from jobs.core.records import ExecutionStatus
from jobs.core.store import Store
from tests.test_store import subprocess_env

REPO = Path(__file__).resolve().parents[1]
WORKERS = 3

JOBS = """
import os
from pathlib import Path


def count():
    with open(Path(os.environ["COUNT_FILE"]), "a") as ran:
        ran.write(f"{os.getpid()}\\n")


REGISTERED_JOBS = [{"job_id": "count", "func": count, "cron_expression": "0 0 1 1 *"}]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class App:
    """uvicorn serving ``examples/fastapi_app.py`` with several workers."""

    def __init__(self, tmp_path: Path, runtime: Path) -> None:
        name = f"fastapi_registry_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(JOBS))
        self.state = tmp_path / "state.sqlite3"
        self.count_file = tmp_path / "count.pids"
        self.port = free_port()
        env = subprocess_env(
            JOBCONSOLE_STATE=str(self.state),
            JOBCONSOLE_REGISTRY=name,
            JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS="1",
            COUNT_FILE=str(self.count_file),
            XDG_RUNTIME_DIR=str(runtime),
            PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
        )
        self.log = open(tmp_path / "uvicorn.log", "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--app-dir", str(REPO)),
                *("--port", str(self.port), "--workers", str(WORKERS)),
                "examples.fastapi_app:app",
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def workers(self) -> list[int]:
        master = self.proc.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        found = []
        for pid in children:  # all but multiprocessing's resource tracker
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
        return found

    def request(self, method: str, path: str) -> tuple[int, Any]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the master and every worker
        self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    # A short runtime directory of its own (pytest's tmp_path is too long for a socket
    # name), shared with the workers so that socket_path() finds theirs.
    runtime = Path(tempfile.mkdtemp(prefix="jc-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    served = App(tmp_path, runtime)
    try:
        yield served
    finally:
        served.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def until(done, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.02)


def serving(app: App) -> bool:
    try:
        return app.request("GET", "/scheduler")[0] == 200
    except OSError:
        return False


def run_once(app: App) -> tuple[int, dict[str, Any]]:
    """Ask for a run until a worker accepts it; (the worker's pid, its execution)."""
    refusals = 0
    while True:
        status, body = app.request("POST", "/jobs/count/run")
        if status == 200:
            return refusals, body
        assert status == 503, body
        assert "stands by and schedules nothing" in body["detail"], body
        refusals += 1
        assert refusals < 200, "no worker accepted the run"


def stored(app: App) -> list:  # type: ignore[type-arg]
    reader = Store.open_path(app.state, read_only=True)
    try:
        return reader.executions(job_id="count", limit=10_000)
    finally:
        reader.close()


def wait_committed(app: App, ids: set[int]) -> None:
    def done() -> bool:
        found = {e.id: e.status for e in stored(app)}
        return all(found.get(i) is ExecutionStatus.SUCCEEDED for i in ids)

    until(done, "the runs committed as succeeded")


def through_the_api(app: App, runs: int) -> tuple[int | None, list[int]]:
    """``runs`` run-nows through the control API, each committed before the next: (the
    pid the API says schedules, the execution ids)."""

    async def drive() -> tuple[int | None, list[int]]:
        client = RemoteClient(socket_path(app.state))
        await client.start()
        try:
            ids = []
            for _ in range(runs):
                execution = await client.run_job_now("count")
                ids.append(execution.id)
                await asyncio.to_thread(wait_committed, app, {execution.id})
            return client.status().host_pid, ids
        finally:
            await client.stop()

    return asyncio.run(drive())


def test_three_workers_one_schedules_and_a_standby_takes_over_after_sigkill(app: App) -> None:
    until(lambda: len(app.workers()) == WORKERS and serving(app), "uvicorn serving")
    until(lambda: holder(app.state) is not None, "a worker scheduling")
    first = holder(app.state)[0]
    assert first in app.workers()
    time.sleep(2)  # every worker has run its lifespan: one schedules, two stand by

    answers = [app.request("GET", "/scheduler")[1] for _ in range(40)]
    for answer in answers:
        assert answer["scheduling_pid"] == first, answer
        assert answer["schedules"] is (answer["pid"] == first), answer
        if answer["pid"] != first:
            assert answer["run_state"] == "standby"
            assert (
                f"standing by: pid {first}, an app embedding SchedulerService"
                in (answer["standby"])
            )
    status, jobs = app.request("GET", "/jobs")
    assert status == 200 and [job["job_id"] for job in jobs] == ["count"]

    accepted: set[int] = set()
    refused = 0
    for _ in range(30):
        refusals, execution = run_once(app)
        refused += refusals
        accepted.add(execution["id"])
        wait_committed(app, {execution["id"]})  # else the next is skipped: one at a time
    assert refused > 0, "no request reached a standby"
    served_by, ids = through_the_api(app, 10)
    assert served_by == first
    accepted.update(ids)

    os.kill(first, signal.SIGKILL)
    killed_at, killed = datetime.now(UTC), time.monotonic()
    until(lambda: (holder(app.state) or (first,))[0] != first, "a standby taking over", timeout=10)
    second = holder(app.state)[0]
    assert second != first and second in app.workers()
    reader = Store.open_path(app.state, read_only=True)
    try:
        until(lambda: (reader.last_alive() or killed_at) > killed_at, "scheduling", timeout=10)
    finally:
        reader.close()
    assert time.monotonic() - killed < 10

    until(lambda: len(app.workers()) == WORKERS, "uvicorn replacing the dead worker")
    served_by, ids = through_the_api(app, 10)  # the takeover serves the control API too
    assert served_by == second
    assert not set(ids) & accepted, "an execution id given twice"
    accepted.update(ids)
    for _ in range(30):
        _, execution = run_once(app)
        assert execution["id"] not in accepted, "an execution id given twice"
        accepted.add(execution["id"])
        wait_committed(app, {execution["id"]})

    executions = stored(app)
    assert len(executions) == len(accepted) == 80  # none lost, none doubled
    assert {e.id for e in executions} == accepted
    ran_in = app.count_file.read_text().split()
    assert len(ran_in) == 80, "the job's code ran a different number of times"
    assert set(ran_in) == {str(first), str(second)}
    assert ran_in.count(str(first)) == 40

    answers = [app.request("GET", "/scheduler")[1] for _ in range(20)]
    assert {answer["scheduling_pid"] for answer in answers} == {second}
    status, shown = app.request("GET", "/jobs/count?limit=100")
    assert status == 200 and len(shown["executions"]) == 80  # from any worker
