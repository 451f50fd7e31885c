"""The control API, through a real socket: a real SchedulerService on a real state file
serving in the test's loop (or a real ``jobconsole run --headless``), and RemoteClient or
a plain aiohttp client on the other side."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from jobs.core import cron
from jobs.core.control import paths, wire
from jobs.core.control.remote import RemoteClient
from jobs.core.control.wire import ControlError
from jobs.core.errors import (
    DuplicateJobError,
    HostUnavailableError,
    InvalidJobError,
    JobNotFoundError,
    ReadOnlyError,
)
from jobs.core.records import (
    EventKind,
    Execution,
    ExecutionStatus,
    JobSnapshot,
    JobSource,
    JobState,
    SchedulerEvent,
    SchedulerStatus,
    Trigger,
)
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store
from tests import records
from tests.test_signals import Headless, kill_and_reap, launch, process_gone
from tests.test_store import subprocess_env

REPO = Path(__file__).resolve().parents[1]
QUICK = "tests.jobfuncs:quick"
YEARLY = "0 0 1 1 *"


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short XDG_RUNTIME_DIR of this test's own (pytest's tmp_path is too long for a
    socket name), so its sockets meet nobody else's."""
    folder = Path(tempfile.mkdtemp(prefix="jc-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def host(tmp_path: Path, runtime_dir: Path) -> AsyncIterator[SchedulerService]:
    """A started service on ``tmp_path/state.sqlite3`` with one yearly code job, 'yearly'."""
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=Store.open(settings), role="library")
    service.register_job("yearly", QUICK, YEARLY)
    service.start()
    yield service
    task = service.shutdown(timeout=0)
    if task is not None:
        await task
    service.close()


def socket_of(service: SchedulerService) -> Path:
    return paths.socket_path(service.settings.state_path)


@pytest.fixture
async def client(host: SchedulerService) -> AsyncIterator[RemoteClient]:
    remote = RemoteClient(socket_of(host))
    await remote.start()
    yield remote
    await remote.stop()


@pytest.fixture
async def http(host: SchedulerService) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client on the host's socket, as curl would be."""
    session = aiohttp.ClientSession(
        "http://jobconsole", connector=aiohttp.UnixConnector(path=str(socket_of(host)))
    )
    yield session
    await session.close()


async def until(condition: Callable[[], Any], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {condition}")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------------- paths


def test_the_socket_is_in_an_owner_only_directory_named_by_the_state_file(
    runtime_dir: Path, tmp_path: Path
) -> None:
    first = paths.socket_path(tmp_path / "a" / ".." / "state.sqlite3")
    assert first == paths.socket_path(tmp_path / "state.sqlite3")  # resolved first
    assert first != paths.socket_path(tmp_path / "other.sqlite3")
    assert first.parent == runtime_dir / "jobconsole"
    assert stat.S_IMODE(os.stat(first.parent).st_mode) == 0o700
    long_state = tmp_path.joinpath(*["a-rather-long-folder-name"] * 20, "state.sqlite3")
    assert len(os.fsencode(paths.socket_path(long_state))) <= paths.SUN_PATH_MAX


def test_a_directory_open_to_others_or_owned_by_another_is_refused(runtime_dir: Path) -> None:
    folder = runtime_dir / "jobconsole"
    folder.mkdir(mode=0o700)
    folder.chmod(0o755)
    with pytest.raises(paths.ControlPathError, match=r"open to other users \(mode 0755\)"):
        paths.socket_path(Path("state.sqlite3"))
    folder.chmod(0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(paths.ControlPathError, match="belongs to user id 65534, not to you"):
        paths.socket_path(Path("state.sqlite3"))


def test_a_runtime_directory_too_long_for_a_socket_falls_back_to_tmp(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deep = tmp_path.joinpath(*["x" * 30] * 3)
    deep.mkdir(parents=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    assert paths.socket_dir() == Path(f"/tmp/jobconsole-{os.getuid()}")


# ---------------------------------------------------------------------- wire


def test_every_value_crosses_the_wire_whole() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    at = datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    snapshot = records.snapshot(
        "a/b?c", func_ref="m:f", cron_expression="*/5 * * * *", timezone="Europe/Paris",
        state=JobState.PAUSED, next_run_time=at, last_status=ExecutionStatus.TIMED_OUT,
        last_duration=1.5, run_count=3, timeout_seconds=9.0, isolation="process",
        description="given", source=JobSource.REGISTRY,
    )  # fmt: skip
    execution = Execution(
        7, "a/b?c", ExecutionStatus.FAILED, at, at, at + timedelta(seconds=1),
        Trigger.MANUAL, "boom", "Traceback…", "out\x00 ünï", True, ("slow",),
    )  # fmt: skip
    event = SchedulerEvent(
        EventKind.EXECUTION_FAILED, at, "a/b?c", snapshot, execution, "m", {"k": "v"}
    )
    status = SchedulerStatus(
        True, "UTC", None, ("bad entry",), None, True, "jobs.registry", 10.0,
        host_pid=1, role="run --headless", started_at=datetime.now(UTC), socket="/s",
    )  # fmt: skip
    for value in (snapshot, execution, event, status):
        back = wire.loads(wire.dumps(value), type(value))
        assert wire.load(type(value), json.loads(wire.dumps(value))) == back
        assert back == value
        for f in fields(value):
            assert type(getattr(back, f.name)) is type(getattr(value, f.name)), f.name
    assert back.started_at.utcoffset() == timedelta(0)
    odd = wire.loads(wire.dumps(replace(execution, output="bad \udcff byte")), Execution)
    assert odd.output == "bad ? byte"  # UTF-8 cannot carry a lone surrogate


def test_an_unknown_field_is_ignored_and_a_missing_one_takes_its_default() -> None:
    data = json.loads(wire.dumps(records.snapshot("a", cron_expression=YEARLY)))
    data["a_field_of_a_newer_host"] = {"x": 1}
    del data["run_count"]
    assert wire.load(JobSnapshot, data).run_count == 0


# ---------------------------------------------------------------------- routes


async def test_curl_s_request_for_the_jobs_answers_with_them_as_json(
    host: SchedulerService,
) -> None:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "--unix-socket", str(socket_of(host)), "http://jobconsole/jobs",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    jobs = json.loads(out)
    assert [job["job_id"] for job in jobs] == ["yearly"]
    assert jobs[0]["state"] == "scheduled"
    assert jobs[0]["next_run_time"] == "2027-01-01T00:00:00Z"


async def test_every_read_and_action_through_the_remote_client(
    host: SchedulerService, client: RemoteClient
) -> None:
    heard: list[SchedulerEvent] = []
    client.subscribe(heard.append)
    job = await client.register_job("nightly", QUICK, "0 3 * * *")
    assert job.source == "runtime" and host.has_job("nightly")
    assert [j.job_id for j in await client.get_jobs()] == ["yearly", "nightly"]
    assert (await client.get_job("nightly")) == host.get_job("nightly")
    assert (await client.pause_job("nightly")).state is JobState.PAUSED
    assert host.get_job("nightly").state is JobState.PAUSED
    assert (await client.resume_job("nightly")).state is JobState.SCHEDULED
    assert (await client.reschedule_job("nightly", "0 4 * * *")).cron_expression == "0 4 * * *"
    assert (await client.set_timeout("nightly", 30)).timeout_seconds == 30
    assert (await client.set_timeout("nightly", None)).timeout_seconds is None
    assert await client.next_fire_times("nightly", 3) == host.next_fire_times("nightly", 3)
    execution = await client.run_job_now("nightly")
    assert execution.trigger is Trigger.MANUAL and execution.job_id == "nightly"
    await until(lambda: any(e.kind is EventKind.EXECUTION_SUCCEEDED for e in heard))
    (latest,) = await client.recent_executions("nightly", limit=1)
    assert latest.status is ExecutionStatus.SUCCEEDED and latest.id == execution.id
    assert [e.id for e in await client.recent_executions()] == [
        e.id for e in host.recent_executions()
    ]
    assert "jobs.heartbeat:heartbeat" in await client.function_refs()  # the registry's package
    await client.remove_job("nightly")
    assert not host.has_job("nightly")
    await until(lambda: heard and heard[-1].kind is EventKind.JOB_REMOVED)
    kinds = [event.kind for event in heard]
    for kind in (
        EventKind.JOB_ADDED,
        EventKind.JOB_PAUSED,
        EventKind.JOB_RESUMED,
        EventKind.JOB_RESCHEDULED,
        EventKind.JOB_UPDATED,
        EventKind.EXECUTION_STARTED,
    ):
        assert kind in kinds
    paused = next(e for e in heard if e.kind is EventKind.JOB_PAUSED)
    assert paused.job is not None and paused.job.state is JobState.PAUSED


async def test_the_status_names_the_host_and_counts_its_jobs(
    host: SchedulerService, client: RemoteClient, http: aiohttp.ClientSession
) -> None:
    status = client.status()
    assert status.attached and status.connected and not status.read_only
    assert status.host_pid == os.getpid() and status.role == "library"
    assert status.running and status.durable and status.timezone == "UTC"
    assert status.socket == str(socket_of(host)) and status.started_at is not None
    host.pause_job("yearly")
    async with http.get("/status") as response:
        body = await response.json()
    assert body["jobs"] == {"paused": 1} and body["job_count"] == 1
    assert body["state_path"] == str(host.settings.state_path)
    assert body["host_pid"] == os.getpid()
    assert body["uptime_seconds"] >= 0
    assert (await client.host_status())["role"] == "library"


async def test_refusals_come_back_as_the_library_s_own_exceptions(
    host: SchedulerService, client: RemoteClient
) -> None:
    with pytest.raises(JobNotFoundError) as missing:
        await client.pause_job("nobody")
    assert str(missing.value) == "no job with id 'nobody' is registered"
    assert missing.value.field == "job_id" and missing.value.job_id == "nobody"
    with pytest.raises(DuplicateJobError) as duplicate:
        await client.register_job("yearly", QUICK, YEARLY)
    assert duplicate.value.field == "job_id"
    with pytest.raises(cron.CronError) as bad_cron:
        await client.reschedule_job("yearly", "61 * * * *")
    assert bad_cron.value.field == "minute"
    assert bad_cron.value.reason == "minute field: 61 is out of range 0-59"
    with pytest.raises(InvalidJobError) as bad_func:
        await client.register_job("c", "tests.jobfuncs:no_such_function", "* * * * *")
    assert "no_such_function" in str(bad_func.value)
    with pytest.raises(InvalidJobError, match="timeout_seconds=-1 is not valid"):
        await client.set_timeout("yearly", -1)
    assert [j.job_id for j in await client.get_jobs()] == ["yearly"]  # nothing changed
    assert host.get_job("yearly").cron_expression == YEARLY


async def test_http_answers_carry_the_status_of_each_refusal(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    async def answer(method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        async with http.request(method, path, **kwargs) as response:
            return response.status, await response.json()

    status, body = await answer("GET", "/jobs/nobody")
    assert (status, body["error"], body["field"]) == (404, "JobNotFoundError", "job_id")
    every_minute = {"func": QUICK, "cron": "* * * * *"}
    status, body = await answer("POST", "/jobs", json={"id": "yearly", **every_minute})
    assert (status, body["error"]) == (409, "DuplicateJobError")
    status, body = await answer("PUT", "/jobs/yearly/schedule", json={"cron": "61 * * * *"})
    assert (status, body["error"], body["field"]) == (422, "CronError", "minute")
    assert body["message"] == (
        "invalid cron expression '61 * * * *': minute field: 61 is out of range 0-59"
    )
    status, body = await answer("POST", "/jobs/yearly/schedule", json={"cron": "0 5 * * *"})
    assert status == 200 and body["cron_expression"] == "0 5 * * *"
    status, body = await answer("POST", "/jobs", json={"id": "x", **every_minute})
    assert status == 201 and body["job_id"] == "x"
    status, body = await answer("POST", "/jobs/x/run")
    assert status == 202 and body["status"] in ("running", "succeeded")
    status, body = await answer("DELETE", "/jobs/x")
    assert (status, body) == (200, {"removed": "x"})
    host._store.flush()  # the writer thread commits in its own time
    status, body = await answer("GET", "/executions?job=x&limit=5")
    assert status == 200 and [e["job_id"] for e in body] == ["x"]
    status, body = await answer("GET", "/jobs/yearly/next?count=2")
    assert status == 200 and len(body) == 2 and body[0].endswith("T05:00:00Z")
    status, body = await answer("GET", "/jobs/yearly/next?count=0")
    assert (status, body["field"]) == (400, "count")


async def test_enable_and_disable_through_the_remote_client_and_http(
    host: SchedulerService, client: RemoteClient, http: aiohttp.ClientSession
) -> None:
    job = await client.disable_job("yearly")
    assert job.state is JobState.DISABLED and host.get_job("yearly").state is JobState.DISABLED
    assert (await client.enable_job("yearly")).state is JobState.SCHEDULED
    async with http.post("/jobs/yearly/disable") as response:
        assert response.status == 200 and (await response.json())["state"] == "disabled"
    async with http.post("/jobs/nobody/enable") as response:
        body = await response.json()
        assert (response.status, body["error"]) == (404, "JobNotFoundError")
    with pytest.raises(JobNotFoundError):
        await client.enable_job("nobody")
    read_only = RemoteClient(socket_of(host), read_only=True)
    await read_only.start()
    try:
        with pytest.raises(ReadOnlyError, match="cannot enable yearly"):
            await read_only.enable_job("yearly")
    finally:
        await read_only.stop()


async def test_an_attached_client_is_told_of_the_registry_entries_not_loaded(
    host: SchedulerService,
) -> None:
    host.load_registry([{"job_id": "bad", "func": QUICK, "cron_expression": "61 * * * *"}])
    remote = RemoteClient(socket_of(host))
    await remote.start()
    try:
        (entry,) = remote.status().rejected
        assert entry == host.status().rejected[0]
        assert (entry.row_id, entry.index, entry.cron_expression) == ("bad", 1, "61 * * * *")
        assert entry.snapshot().state is JobState.ERROR
        assert "minute field: 61 is out of range 0-59" in entry.reason
    finally:
        await remote.stop()


async def test_post_jobs_takes_the_options_and_refuses_them_in_the_services_words(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    async def post(**body: Any) -> tuple[int, dict[str, Any]]:
        async with http.post("/jobs", json={"func": QUICK, "cron": YEARLY, **body}) as response:
            return response.status, await response.json()

    status, body = await post(id="zoned", timezone="Mars/Base")
    assert (status, body["error"]) == (422, "TimezoneError")
    assert body["message"].startswith("unknown time zone 'Mars/Base'")
    status, body = await post(id="zoned", timeout_seconds=0)
    assert (status, body["error"], body["field"]) == (422, "InvalidJobError", "timeout_seconds")
    status, body = await post(id="zoned", description="x" * 1001)
    assert (status, body["field"]) == (422, "description")
    assert not host.has_job("zoned")

    status, body = await post(
        id="zoned", description="Tokyo's", timezone="Asia/Tokyo", timeout_seconds=30
    )
    assert status == 201
    options = body["options"]
    assert (options["description"], options["timezone"], options["timeout_seconds"]) == (
        "Tokyo's",
        "Asia/Tokyo",
        30.0,
    )
    job = host.get_job("zoned")
    assert (job.description, job.timezone, job.timeout_seconds) == ("Tokyo's", "Asia/Tokyo", 30)


async def test_ids_with_slashes_and_question_marks_reach_their_job(
    host: SchedulerService, client: RemoteClient
) -> None:
    odd = "reports/daily?x=1#top %2F"
    await client.register_job(odd, QUICK, YEARLY)
    assert (await client.pause_job(odd)).job_id == odd
    assert host.get_job(odd).state is JobState.PAUSED
    assert (await client.get_job(odd)).state is JobState.PAUSED
    await client.remove_job(odd)
    assert not host.has_job(odd)


async def test_a_read_only_client_reads_but_changes_nothing(host: SchedulerService) -> None:
    remote = RemoteClient(socket_of(host), read_only=True)
    await remote.start()
    try:
        assert remote.status().read_only
        assert [j.job_id for j in await remote.get_jobs()] == ["yearly"]
        with pytest.raises(ReadOnlyError, match="cannot pause yearly"):
            await remote.pause_job("yearly")
        with pytest.raises(ReadOnlyError):
            await remote.register_job("new", QUICK, YEARLY)
        with pytest.raises(ReadOnlyError):
            await remote.remove_job("yearly")
        assert host.get_job("yearly").state is JobState.SCHEDULED
    finally:
        await remote.stop()


async def test_events_reach_every_attached_client_and_each_sees_the_other_s_changes(
    host: SchedulerService, client: RemoteClient
) -> None:
    other = RemoteClient(socket_of(host))
    await other.start()
    try:
        mine: list[SchedulerEvent] = []
        theirs: list[SchedulerEvent] = []
        client.subscribe(mine.append)
        other.subscribe(theirs.append)
        await other.pause_job("yearly")
        host.resume_job("yearly")
        for heard in (mine, theirs):
            await until(lambda heard=heard: len(heard) >= 2)
            assert [e.kind for e in heard[:2]] == [EventKind.JOB_PAUSED, EventKind.JOB_RESUMED]
            assert heard[1].job == host.get_job("yearly")
    finally:
        await other.stop()


# ---------------------------------------------------------------------- a host's life


async def test_no_host_is_host_unavailable(runtime_dir: Path, tmp_path: Path) -> None:
    remote = RemoteClient(paths.socket_path(tmp_path / "state.sqlite3"))
    with pytest.raises(HostUnavailableError, match="no scheduler answers on"):
        await remote.start()
    with pytest.raises(HostUnavailableError):
        await remote.get_jobs()


async def test_the_socket_is_removed_at_shutdown(tmp_path: Path, runtime_dir: Path) -> None:
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=Store.open(settings))
    service.start()
    socket = paths.socket_path(settings.state_path)
    assert stat.S_ISSOCK(os.stat(socket).st_mode)
    assert stat.S_IMODE(os.stat(socket).st_mode) == 0o600
    remote = RemoteClient(socket)
    await remote.start()
    lost: list[SchedulerEvent] = []
    remote.subscribe(lost.append)
    try:
        task = service.shutdown(timeout=0)
        assert task is not None
        await task
        assert not socket.exists()
        await until(lambda: any(e.kind is EventKind.HOST_LOST for e in lost))
        kinds = [e.kind for e in lost]
        assert EventKind.SCHEDULER_STOPPED in kinds  # it heard the host stop, then lost it
        assert not remote.status().connected and not remote.status().running
        with pytest.raises(HostUnavailableError):
            await remote.get_jobs()
    finally:
        await remote.stop()


def headless_env(tmp_path: Path, runtime: Path) -> dict[str, str]:
    (tmp_path / "api_registry.py").write_text(
        "def tick():\n    print('tick')\n\n"
        f"REGISTERED_JOBS = [{{'job_id': 'tick', 'func': tick, 'cron_expression': {YEARLY!r}}}]\n"
    )
    return subprocess_env(
        JOBCONSOLE_STATE=str(tmp_path / "state.sqlite3"),
        JOBCONSOLE_REGISTRY="api_registry",
        JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS="1",
        XDG_RUNTIME_DIR=str(runtime),
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )


@pytest.fixture
async def headless_runs(tmp_path: Path) -> AsyncIterator[list[Headless]]:
    """Headless hosts a test launches; each is killed and reaped at the end."""
    runs: list[Headless] = []
    yield runs
    for run in runs:
        await kill_and_reap(run)


async def test_a_headless_host_killed_and_started_again_is_lost_then_back(
    tmp_path: Path, runtime_dir: Path, headless_runs: list[Headless]
) -> None:
    state = tmp_path / "state.sqlite3"
    env = headless_env(tmp_path, runtime_dir)
    first = await launch(tmp_path, state, env)
    headless_runs.append(first)
    await first.read_until("jobconsole: running 1 job(s)")
    socket = paths.socket_path(state)
    remote = RemoteClient(socket)
    await remote.start()
    heard: list[SchedulerEvent] = []
    remote.subscribe(heard.append)
    try:
        assert remote.status().host_pid == first.proc.pid
        assert remote.status().role == "run --headless"
        await remote.pause_job("tick")
        await first.read_until("tick  job paused")
        first.proc.send_signal(signal.SIGKILL)
        await first.proc.wait()
        await until(lambda: any(e.kind is EventKind.HOST_LOST for e in heard))
        assert socket.exists(), "a killed host cannot remove its socket"
        with pytest.raises(HostUnavailableError):
            await remote.resume_job("tick")
        second = await launch(tmp_path, state, env)  # replaces the stale socket
        headless_runs.append(second)
        await second.read_until("jobconsole: running")
        await until(lambda: any(e.kind is EventKind.HOST_BACK for e in heard))
        assert remote.status().connected and remote.status().host_pid == second.proc.pid
        assert [job.job_id for job in await remote.get_jobs()] == ["tick"]
        await remote.resume_job("tick")  # the pause may not have been committed at the kill
        await remote.pause_job("tick")
        await second.read_until("tick  job paused")
        second.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.proc.wait(), 20) == 0
        assert not socket.exists()
        assert process_gone(second.proc.pid)
    finally:
        await remote.stop()


async def test_a_socket_in_the_way_that_is_no_socket_is_a_warning_not_a_failure(
    tmp_path: Path, runtime_dir: Path
) -> None:
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    socket = paths.socket_path(settings.state_path)
    socket.write_text("not a socket")
    service = SchedulerService(settings, store=Store.open(settings))
    heard: list[SchedulerEvent] = []
    service.subscribe(heard.append)
    service.register_job("yearly", QUICK, YEARLY)
    service.start()
    try:
        assert service.is_running
        (warning,) = [e for e in heard if e.kind is EventKind.WARNING]
        assert "control API is not served" in warning.message and str(socket) in warning.message
    finally:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task
    assert socket.read_text() == "not a socket"  # never removed what it did not make


async def test_a_control_error_keeps_its_status(
    host: SchedulerService, http: aiohttp.ClientSession
) -> None:
    async with http.get("/no/such/route") as response:
        body = await response.json()
    error = wire.error_from(body, response.status)
    assert isinstance(error, ControlError) and error.status == 404
    assert "no route GET '/no/such/route'" in str(error)


@pytest.mark.parametrize("command", [["list"], ["cron", "@daily", "--tz", "UTC"], ["history"]])
def test_commands_that_only_read_never_import_aiohttp(tmp_path: Path, command: list[str]) -> None:
    import subprocess
    import sys

    script = (
        "import sys\nfrom tui.cli import main\n"
        f"code = main({command!r})\nprint('aiohttp' in sys.modules, code)\n"
    )
    env = subprocess_env(JOBCONSOLE_STATE=str(tmp_path / "state.sqlite3"), PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.stdout.splitlines()[-1] == "False 0", result.stdout + result.stderr


async def test_a_state_file_in_trouble_shows_in_the_attached_status(
    host: SchedulerService, client: RemoteClient
) -> None:
    heard: list[SchedulerEvent] = []
    client.subscribe(heard.append)
    assert client.status().state_error is None
    os.remove(host.settings.state_path)
    host.run_job_now("yearly")
    await until(lambda: client.status().state_error is not None)
    # A deleted file can fail a write first (disk I/O error) and then be found gone: two
    # reports. The attached status follows the latest, as the host's own does.
    troubles = [e for e in heard if e.kind is EventKind.STATE_ERROR]
    assert all(str(host.settings.state_path) in e.message for e in troubles)
    await until(lambda: client.status().state_error == host.status().state_error)
    latest = [e for e in heard if e.kind is EventKind.STATE_ERROR][-1]
    assert client.status().state_error == latest.details["reason"]
    assert (await client.host_status())["state_error"] == client.status().state_error
