"""The store interface: what every store does alike (memory and SQLite), and what the
memory store, the default, keeps of a job's history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core.memory_store import RECENT_PER_JOB, MemoryStore
from jobs.core.records import Execution, ExecutionStatus
from jobs.core.state_store import StateStore, StoredJob
from jobs.core.store import Store
from tests.records import stored_job

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def run(store: StateStore, job_id: str, status: ExecutionStatus, minute: int = 0) -> Execution:
    at = T0 + timedelta(minutes=minute)
    execution = Execution(
        id=store.next_execution_id(),
        job_id=job_id,
        status=status,
        scheduled_time=at,
        started_at=at,
        ended_at=at + timedelta(seconds=1),
    )
    store.record_execution(execution)
    return execution


def row(job_id: str, **changes: object) -> StoredJob:
    return stored_job(
        job_id, cron_expression="* * * * *", code_cron_expression="* * * * *", **changes
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore = (
        MemoryStore() if request.param == "memory" else Store.open_path(tmp_path / "s.sqlite3")
    )
    yield made
    made.close()


def test_every_store_gives_executions_newest_first_and_counts_runs(store: StateStore) -> None:
    first = run(store, "a", ExecutionStatus.SUCCEEDED, 0)
    run(store, "a", ExecutionStatus.SKIPPED, 1)
    failed = run(store, "a", ExecutionStatus.FAILED, 2)
    other = run(store, "b", ExecutionStatus.SUCCEEDED, 3)
    store.flush()

    assert [e.id for e in store.executions()] == [other.id, failed.id, failed.id - 1, first.id]
    assert store.executions("a", limit=1) == [failed]
    assert store.executions("a", failed_only=True) == [failed]
    stats = store.job_stats()["a"]
    assert (stats.run_count, stats.failure_count) == (2, 1)
    assert stats.last is not None and stats.last.execution_id == failed.id
    assert store.latest_scheduled_times(["a", "b", "never"]) == {
        "a": failed.scheduled_time,
        "b": other.scheduled_time,
    }


def test_every_store_keeps_job_rows_in_the_order_first_saved(store: StateStore) -> None:
    store.save_job(row("b"))
    store.save_job(row("a"))
    store.save_job(row("b", paused=True))
    store.delete_job("a")
    store.flush()

    assert store.load_jobs() == [row("b", paused=True)]


def test_ids_are_never_given_twice(store: StateStore) -> None:
    ids = [store.next_execution_id() for _ in range(5)]
    assert len(set(ids)) == 5


def test_the_memory_store_keeps_the_latest_runs_of_each_job_and_every_count() -> None:
    store = MemoryStore()
    runs = [run(store, "a", ExecutionStatus.SUCCEEDED, n) for n in range(RECENT_PER_JOB + 5)]

    assert store.executions("a", limit=1000) == list(reversed(runs[-RECENT_PER_JOB:]))
    assert store.job_stats()["a"].run_count == RECENT_PER_JOB + 5


def test_a_job_removed_from_the_memory_store_takes_its_history_with_it() -> None:
    store = MemoryStore()
    run(store, "gone", ExecutionStatus.SUCCEEDED)
    run(store, "removed", ExecutionStatus.SUCCEEDED)
    kept = run(store, "kept", ExecutionStatus.SUCCEEDED)

    store.delete_job("gone")
    store.save_job(row("removed", removed=True))

    assert store.executions() == [kept]
    assert set(store.job_stats()) == {"kept"}


def test_the_memory_store_keeps_no_running_execution_and_no_sign_of_life() -> None:
    store = MemoryStore()
    run(store, "a", ExecutionStatus.RUNNING)
    store.mark_alive(T0)

    assert store.executions() == []
    assert store.interrupt_running(T0) == []
    assert store.last_alive() is None
    assert not store.persistent and not store.closed
