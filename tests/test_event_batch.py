"""Events reach the console in batches: a burst is applied once, never inside the service."""

from __future__ import annotations

from datetime import UTC, datetime

from jobs.core.client import LocalClient
from jobs.core.records import EventKind, JobSnapshot, JobState, SchedulerEvent
from jobs.core.service import SchedulerService
from tests.records import snapshot
from tui.app import JobConsoleApp
from tui.event_batch import EventQueue
from tui.widgets import ExecutionLog, JobTable

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
YEARLY = "0 0 1 1 *"


def snap(job_id: str, runs: int) -> JobSnapshot:
    return snapshot(job_id, run_count=runs)


def event(kind: EventKind, job_id: str, job: JobSnapshot | None = None) -> SchedulerEvent:
    return SchedulerEvent(kind=kind, at=AT, job_id=job_id, job=job)


def test_a_burst_wakes_the_console_once_and_each_row_takes_its_newest_snapshot() -> None:
    wakes: list[None] = []
    queue = EventQueue(lambda: wakes.append(None))
    for runs in range(1000):
        queue.put(event(EventKind.JOB_UPDATED, "a", snap("a", runs)))
    queue.put(event(EventKind.JOB_ADDED, "b", snap("b", 0)))
    queue.put(event(EventKind.JOB_REMOVED, "b"))
    assert len(wakes) == 1
    batch = queue.take()
    assert len(batch.events) == 1002  # every event still reaches the log
    assert batch.jobs == {"a": snap("a", 999), "b": None}
    assert batch.job_ids == {"a", "b"}
    queue.put(event(EventKind.JOB_UPDATED, "a", snap("a", 1000)))
    assert len(wakes) == 2  # a new batch wakes again


def test_snapshots_queued_before_a_reload_are_not_applied_over_it() -> None:
    queue = EventQueue(lambda: None)
    queue.put(event(EventKind.JOB_ADDED, "a", snap("a", 0)))
    queue.supersede_jobs()
    queue.put(event(EventKind.JOB_UPDATED, "b", snap("b", 1)))
    batch = queue.take()
    assert batch.jobs == {"b": snap("b", 1)}
    assert [e.job_id for e in batch.events] == ["a", "b"]


async def test_a_burst_of_a_thousand_executions_is_drawn_as_one_update(
    service: SchedulerService,
) -> None:
    service.register_job("burst", "tests.jobfuncs:slow", YEARLY)
    service.register_job("other", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        before = table.model.revision
        for _ in range(1000):  # one started, 999 skipped: it is still running
            service.run_job_now("burst")
        assert table.model.revision == before  # nothing was applied inside the service
        await pilot.pause()
        assert table.model.revision == before + 1
        skipped = [line for line in log.lines if "burst" in line and "skipped" in line]
        assert len(skipped) == 999
        assert table.get_job("burst").state is JobState.RUNNING  # type: ignore[union-attr]
