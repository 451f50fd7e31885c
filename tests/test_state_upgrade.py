"""A state file written before job options had a JSON column (schema 1) is read as it is
by the commands that only read, and upgraded by the first scheduler that opens it,
losing nothing: every job's options, pauses, console edits, console jobs and runs.

The file, ``tests/data/state-v1.sqlite3``, was written by that code itself
(``tests/data/write_state_v1.py`` says how); each test works on a copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.core.records import ExecutionStatus, JobSnapshot, JobSource, JobState
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store
from tests.data.write_state_v1 import code_jobs
from tests.test_store import subprocess_env

REPO = Path(__file__).resolve().parents[1]
V1 = REPO / "tests" / "data" / "state-v1.sqlite3"
JOBCONSOLE = Path(sys.executable).with_name("jobconsole")
V1_JOB_COLUMNS = (
    "job_id, func_ref, cron_expression, code_cron_expression, timezone, source, enabled, "
    "paused, removed, timeout_seconds, code_timeout_seconds, isolation, description"
)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    copy = tmp_path / "state.sqlite3"
    shutil.copyfile(V1, copy)
    return copy


def table(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def schema(path: Path) -> str:
    return str(table(path, "SELECT value FROM meta WHERE key = 'schema_version'")[0][0])


async def open_and_start(path: Path) -> SchedulerService:
    settings = Settings(timezone="UTC", state_path=path)
    service = SchedulerService(settings, store=Store.open(settings))
    code_jobs(service)
    service.start()
    return service


def by_id(service: SchedulerService) -> dict[str, JobSnapshot]:
    return {job.job_id: job for job in service.get_jobs()}


def test_the_reading_commands_read_a_first_schema_file_as_it_is(state: Path) -> None:
    before = state.read_bytes()
    result = subprocess.run(
        [str(JOBCONSOLE), "history"],
        env=subprocess_env(JOBCONSOLE_STATE=str(state)),
        cwd=state.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[3:5] for line in result.stdout.splitlines()] == [  # after "#N", the time
        ["failing", "failed"],
        ["console", "succeeded"],
        ["edited", "succeeded"],
    ]
    store = Store.open_path(state, read_only=True)
    try:
        rows = {row.job_id: row for row in store.load_jobs()}
    finally:
        store.close()
    console = rows["console"].options
    assert (console.timezone, console.description) == ("Europe/Paris", "from the console")
    assert (console.timeout_seconds, console.isolation) == (30.0, "process")
    assert rows["console"].source is JobSource.CONSOLE
    assert rows["edited"].code_options is not None
    assert rows["edited"].code_options.timeout_seconds == 10.0
    assert state.read_bytes() == before  # a reader writes nothing, not even the upgrade
    assert schema(state) == "1"


async def test_the_first_scheduler_upgrades_it_and_every_option_and_run_is_kept(
    state: Path,
) -> None:
    columns_before = table(state, f"SELECT {V1_JOB_COLUMNS} FROM jobs ORDER BY rowid")
    runs_before = table(state, "SELECT * FROM executions ORDER BY id")
    counts_before = table(state, "SELECT * FROM job_stats ORDER BY job_id")
    for attempt in range(2):  # the upgrade, then a start on the upgraded file
        service = await open_and_start(state)
        try:
            jobs = by_id(service)
            assert set(jobs) == {"edited", "off", "console"}, attempt
            edited = jobs["edited"]
            assert edited.cron_expression == "*/5 * * * *"  # the console's edit
            assert edited.timeout_seconds == 3.0 and edited.state is JobState.PAUSED
            assert (edited.run_count, edited.last_status) == (1, ExecutionStatus.SUCCEEDED)
            off = jobs["off"]
            assert not off.enabled and off.given_description == "switched off"
            console = jobs["console"]
            assert console.source is JobSource.CONSOLE and console.error is None
            assert (console.timezone, console.given_description) == (
                "Europe/Paris",
                "from the console",
            )
            assert (console.timeout_seconds, console.isolation) == (30.0, "process")
            assert console.run_count == 1
            failed = service.recent_executions("failing")
            assert [e.status for e in failed] == [ExecutionStatus.FAILED]
        finally:
            await service.shutdown()
            service.close()
        assert schema(state) == "2"
        assert table(state, f"SELECT {V1_JOB_COLUMNS} FROM jobs ORDER BY rowid") == (columns_before)
        assert set(table(state, "SELECT options FROM jobs")) == {("{}",)}
        assert table(state, "SELECT * FROM executions ORDER BY id") == runs_before
        assert table(state, "SELECT * FROM job_stats ORDER BY job_id") == counts_before
