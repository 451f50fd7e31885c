"""The library is durable like the console (issue 13, item 4), and a second service on a
held state file stands by (item 5), here within one process: the hold is per open file,
so two services in one process meet it as two processes do. Across real processes:
``test_workers.py``.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jobs import EventKind, ExecutionStatus, SchedulerService, Settings
from jobs.core.bootstrap import RegistryError
from jobs.core.errors import StandbyError
from jobs.core.lifecycle import RunState
from jobs.core.settings import KEYS
from jobs.core.store import StateError, StateLockedError, Store
from tests.jobfuncs_core import EventLog

REGISTRY = """
def tick():
    print("tick")

REGISTERED_JOBS = [
    {"job_id": "tick", "func": tick, "cron_expression": "0 0 1 1 *"},
    {"job_id": "tock", "func": tick, "cron_expression": "0 0 1 1 *", "enabled": False},
]
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No jobconsole key set but the zone and a registry module of our own; cwd is
    ``tmp_path``, where the default state path lands."""
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    name = f"library_registry_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(REGISTRY))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("JOBCONSOLE_TIMEZONE", "UTC")
    monkeypatch.setenv("JOBCONSOLE_REGISTRY", name)
    yield tmp_path


@pytest.fixture
async def services() -> AsyncIterator[list[SchedulerService]]:
    """Services to shut down (or close) at the end, whatever happened."""
    made: list[SchedulerService] = []
    yield made
    for service in made:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task
        service.close()


def library_frames(exc: BaseException) -> list[str]:
    """The functions the traceback passes through below the test's own frame."""
    names = []
    tb = exc.__traceback__.tb_next if exc.__traceback__ else None
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return names


async def until(done, what: str, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        assert loop.time() < deadline, f"{what}: not within {timeout}s"
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------ JOBCONSOLE_STATE


async def test_the_default_state_file_is_opened_at_start_not_at_construction(
    env: Path, services: list[SchedulerService]
) -> None:
    service = SchedulerService()
    services.append(service)
    assert service.load_registry() == []
    assert not (env / ".jobconsole").exists(), "opened before start()"
    assert service.store is None
    service.start()
    assert (env / ".jobconsole" / "state.sqlite3").is_file()
    assert service.store is not None and service.is_running
    events = EventLog(service)
    service.run_job_now("tick")
    ran = await events.finished("tick")
    await service.shutdown()

    reader = Store.open_path(env / ".jobconsole" / "state.sqlite3", read_only=True)
    try:
        assert [(e.id, e.status) for e in reader.executions()] == [
            (ran.id, ExecutionStatus.SUCCEEDED)
        ]
        assert {row.job_id for row in reader.load_jobs()} == {"tick", "tock"}
    finally:
        reader.close()


async def test_jobconsole_state_names_the_file_and_an_empty_value_turns_it_off(
    env: Path, monkeypatch: pytest.MonkeyPatch, services: list[SchedulerService]
) -> None:
    monkeypatch.setenv("JOBCONSOLE_STATE", str(env / "data" / "jobs.sqlite3"))
    named = SchedulerService()
    services.append(named)
    named.start()
    assert (env / "data" / "jobs.sqlite3").is_file()
    await named.shutdown()

    monkeypatch.setenv("JOBCONSOLE_STATE", "")
    off = SchedulerService()
    services.append(off)
    off.load_registry()
    off.start()
    assert off.is_running and off.store is None
    made = sorted(set(os.listdir(env)) - {"__pycache__"})  # the registry's bytecode, if written
    assert made == sorted(["data", next(env.glob("library_registry_*")).name])


async def test_settings_given_in_code_keep_to_memory_unless_durable_is_asked(
    env: Path, services: list[SchedulerService]
) -> None:
    path = env / "given.sqlite3"
    in_memory = SchedulerService(Settings(timezone="UTC", state_path=path))
    services.append(in_memory)
    in_memory.start()
    assert in_memory.store is None and not path.exists()
    await in_memory.shutdown()

    durable = SchedulerService(Settings(timezone="UTC", state_path=path), durable=True)
    services.append(durable)
    durable.start()
    assert durable.store is not None and path.is_file()
    await durable.shutdown()

    other = env / "other.sqlite3"
    given = Store.open_path(other)
    wins = SchedulerService(Settings(timezone="UTC", state_path=path), store=given, durable=True)
    services.append(wins)
    wins.start()
    assert wins.store is given
    await wins.shutdown()


async def test_a_bad_state_path_is_refused_at_start_by_name_without_a_library_traceback(
    env: Path, monkeypatch: pytest.MonkeyPatch, services: list[SchedulerService]
) -> None:
    (env / "folder").mkdir()
    monkeypatch.setenv("JOBCONSOLE_STATE", str(env / "folder"))
    service = SchedulerService()
    services.append(service)
    with pytest.raises(StateError) as info:
        service.start()
    assert str(env / "folder") in str(info.value) and "JOBCONSOLE_STATE" in str(info.value)
    assert info.value.__suppress_context__
    assert library_frames(info.value) == ["start"]
    assert service.run_state is RunState.CREATED and not service.is_running


async def test_a_bad_registry_setting_names_the_module(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBCONSOLE_REGISTRY", "no_such_registry_module")
    service = SchedulerService()
    with pytest.raises(RegistryError) as info:
        service.load_registry()
    assert str(info.value).startswith(
        "JOBCONSOLE_REGISTRY='no_such_registry_module': the module cannot be imported"
    )
    assert info.value.__suppress_context__
    assert library_frames(info.value) == ["load_registry"]
    assert service.get_jobs() == []


def test_a_bad_setting_stops_the_service_being_made_with_only_the_key_and_value(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBCONSOLE_HISTORY_MAX_ROWS", "lots")
    with pytest.raises(Exception) as info:
        SchedulerService()
    assert str(info.value).startswith("JOBCONSOLE_HISTORY_MAX_ROWS='lots' (from the environment)")
    assert info.value.__suppress_context__
    assert library_frames(info.value) == ["__init__"]


# ------------------------------------------------------------------ standing by


async def test_a_second_service_on_a_held_file_stands_by_reads_and_refuses_actions(
    env: Path, services: list[SchedulerService]
) -> None:
    first = SchedulerService()
    second = SchedulerService()
    services.extend([first, second])
    for service in (first, second):
        service.load_registry()
    first.start()
    events = EventLog(first)
    first.run_job_now("tick")
    ran = await events.finished("tick")
    assert first.store is not None
    first.store.flush()  # committed: what another process reads
    heard = EventLog(second)

    second.start()  # returns normally
    assert second.run_state is RunState.STANDBY and not second.is_running
    standby = second.standby
    assert standby is not None
    assert (standby.holder_pid, standby.holder_role) == (os.getpid(), "library")
    assert standby.state_path == Path(".jobconsole/state.sqlite3")
    [said] = heard.events
    assert said.kind is EventKind.WARNING and said.message == standby.message
    assert f"pid {os.getpid()}, an app embedding SchedulerService schedules" in said.message

    # Reads: the registry's jobs as registered here, and the history the holder recorded.
    assert [(j.job_id, j.next_run_time) for j in second.get_jobs()] == [
        ("tick", None),
        ("tock", None),
    ]
    assert [e.id for e in second.recent_executions("tick")] == [ran.id]
    assert second.next_fire_times("tick", 1)

    for action in (
        lambda: second.pause_job("tick"),
        lambda: second.resume_job("tick"),
        lambda: second.run_job_now("tick"),
        lambda: second.reschedule_job("tick", "5 4 * * *"),
        lambda: second.set_timeout("tick", 3),
        lambda: second.remove_job("tick"),
        lambda: second.register_job("new", "jobs.cleanup:cleanup_expired_tokens", "@daily"),
    ):
        with pytest.raises(StandbyError) as info:
            action()
        message = str(info.value)
        assert message.startswith("cannot ") and "stands by and schedules nothing" in message
        assert f"pid {os.getpid()}, an app embedding SchedulerService schedules" in message
    assert [j.job_id for j in second.get_jobs()] == ["tick", "tock"]
    assert first.get_job("tick").state == "scheduled"  # nothing reached the holder


async def test_a_standby_takes_over_when_the_holder_stops_and_is_heard_doing_so(
    env: Path, services: list[SchedulerService]
) -> None:
    first = SchedulerService()
    second = SchedulerService()
    services.extend([first, second])
    for service in (first, second):
        service.load_registry()
    first.start()
    first.pause_job("tick")
    second.start()
    heard = EventLog(second)
    assert second.run_state is RunState.STANDBY

    await first.shutdown()
    await until(lambda: second.is_running, "the standby taking over", timeout=10)
    started = [e for e in heard.events if e.kind is EventKind.SCHEDULER_STARTED]
    assert len(started) == 1
    assert started[0].message == (
        f"took over from pid {os.getpid()}, an app embedding SchedulerService (gone): "
        "scheduler running in UTC"
    )
    assert second.standby is None and second.run_state is RunState.STARTED
    assert second.get_job("tick").state == "paused", "the state file was not merged"
    second.resume_job("tick")  # acts now
    with pytest.raises(StateLockedError):
        Store.open_path(Path(".jobconsole/state.sqlite3"))


async def test_a_standbys_shutdown_stops_it_trying_and_leaves_the_holder_alone(
    env: Path, services: list[SchedulerService]
) -> None:
    first = SchedulerService()
    second = SchedulerService()
    services.extend([first, second])
    first.start()
    second.start()
    heard = EventLog(second)
    await second.shutdown()  # type: ignore[misc]  # awaitable, as the lifespan pattern does
    assert second.run_state is RunState.STOPPED
    assert [(e.kind, e.message) for e in heard.events] == [
        (EventKind.SCHEDULER_STOPPED, "stopped standing by")
    ]
    await first.shutdown()
    await asyncio.sleep(1.5)  # past a retry: nothing takes the file
    assert not second.is_running
    Store.open_path(Path(".jobconsole/state.sqlite3")).close()  # free


async def test_a_change_before_start_on_a_held_file_is_refused_by_name(
    env: Path, services: list[SchedulerService]
) -> None:
    first = SchedulerService()
    second = SchedulerService()
    services.extend([first, second])
    first.load_registry()
    second.load_registry()
    first.start()
    with pytest.raises(StateLockedError) as info:
        second.pause_job("tick")
    assert f"in use by another jobconsole (pid {os.getpid()})" in str(info.value)
    assert second.get_job("tick").state == "scheduled"
