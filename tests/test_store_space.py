"""What the state file keeps of an execution, and the room it gives back once pruned.

A run's start and end are written as one row however the writer groups them, and counted
once; pruning returns the space the pruned rows held to the file system, and a file made
before that (``auto_vacuum`` off) is switched over once, losing nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core.job_options import DEFAULT
from jobs.core.records import Execution, ExecutionStatus, JobSource
from jobs.core.state_store import StoredJob
from jobs.core.store import Store

NOW = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)
V1 = Path(__file__).resolve().parent / "data" / "state-v1.sqlite3"


def pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def on_disk(path: Path) -> int:
    """Bytes the state file takes, its write-ahead log included."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def fill(store: Store, count: int, *, output: str = "") -> list[Execution]:
    """``count`` finished runs, each recorded as the runner does: started, then ended."""
    done = []
    for i in range(count):
        start = Execution(
            id=store.next_execution_id(),
            job_id=f"job{i % 7}",
            status=ExecutionStatus.RUNNING,
            scheduled_time=NOW + timedelta(seconds=i),
            started_at=NOW + timedelta(seconds=i, milliseconds=2),
        )
        store.record_execution(start)
        end = replace(
            start,
            status=ExecutionStatus.FAILED if i % 5 == 0 else ExecutionStatus.SUCCEEDED,
            ended_at=start.started_at + timedelta(milliseconds=40),  # type: ignore[operator]
            error="RuntimeError: boom" if i % 5 == 0 else None,
            output=output,
        )
        store.record_execution(end)
        done.append(end)
    store.flush()
    return done


@pytest.mark.parametrize("apart", [False, True], ids=["committed together", "committed apart"])
def test_a_runs_start_and_end_are_one_row_counted_once(tmp_path: Path, apart: bool) -> None:
    path = tmp_path / "state.sqlite3"
    store = Store.open_path(path)
    try:
        start = Execution(
            id=store.next_execution_id(),
            job_id="j",
            status=ExecutionStatus.RUNNING,
            scheduled_time=NOW,
            started_at=NOW,
        )
        store.record_execution(start)
        if apart:
            store.flush()
            assert [e.status for e in store.executions()] == [ExecutionStatus.RUNNING]
        end = replace(
            start,
            status=ExecutionStatus.FAILED,
            ended_at=NOW + timedelta(seconds=1),
            error="RuntimeError: boom",
            warnings=("it printed to a closed file",),
        )
        store.record_execution(end)
        store.flush()
        assert store.executions() == [end]
        stats = store.job_stats()["j"]
        assert (stats.run_count, stats.failure_count) == (1, 1)
        assert stats.last is not None and stats.last.execution_id == end.id
    finally:
        store.close()


def test_runs_of_many_jobs_in_one_batch_are_each_counted(tmp_path: Path) -> None:
    store = Store.open_path(tmp_path / "state.sqlite3")
    try:
        done = fill(store, 700)
        stats = store.job_stats()
        for job in {e.job_id for e in done}:
            mine = [e for e in done if e.job_id == job]
            assert stats[job].run_count == len(mine)
            assert stats[job].failure_count == sum(e.status.is_failure for e in mine)
            assert stats[job].last is not None and stats[job].last.execution_id == mine[-1].id
        assert len(store.executions(limit=1000)) == 700
    finally:
        store.close()


def test_a_new_state_file_gives_pruned_space_back(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = Store.open_path(path)
    try:
        assert pragma(path, "auto_vacuum") == 2  # incremental
        done = fill(store, 3000, output="x" * 2000)
        full = on_disk(path)
        store.prune(max_rows=100, max_age_days=3650, now=NOW)
        store.flush()
        assert on_disk(path) < full / 5, (on_disk(path), full)
        assert {e.id for e in store.executions(limit=200)} == {e.id for e in done[-100:]}
    finally:
        store.close()


def test_an_old_state_file_is_switched_over_at_its_first_prune_losing_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(V1, path)
    assert pragma(path, "auto_vacuum") == 0
    store = Store.open_path(path)  # upgraded to the current schema; not vacuumed yet
    try:
        assert pragma(path, "auto_vacuum") == 0
        # A console job saved last, so that the order first saved is not the ids' order.
        store.save_job(StoredJob("aaa_console", "tests.jobfuncs:tick", "@daily",
                                 JobSource.CONSOLE, replace(DEFAULT, timezone="UTC")))  # fmt: skip
        fill(store, 2000, output="y" * 2000)
        jobs_before = store.load_jobs()
        kept_before = store.executions(limit=100)
        stats_before = store.job_stats()
        next_id = store.next_execution_id()
        full = on_disk(path)
        store.prune(max_rows=100, max_age_days=3650, now=NOW)
        store.flush()
        assert pragma(path, "auto_vacuum") == 2
        assert on_disk(path) < full / 5, (on_disk(path), full)
        assert store.load_jobs() == jobs_before  # every row, in the order first saved
        assert [j.job_id for j in jobs_before][-1] == "aaa_console"
        assert store.executions(limit=100) == kept_before
        assert store.job_stats() == stats_before
    finally:
        store.close()
    again = Store.open_path(path)
    try:
        assert again.next_execution_id() == next_id + 1  # ids never given twice
        assert pragma(path, "integrity_check") == "ok"
    finally:
        again.close()
