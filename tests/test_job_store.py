"""The heap job store answers APScheduler as its own MemoryJobStore does.

Two real AsyncIOSchedulers on a real event loop, one with each store, are given the same
jobs and the same changes (through the scheduler's own methods: pause, resume,
reschedule, modify, remove); after each step both list the same jobs, in the same order,
with the same next run times, and fire the same jobs at the same times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.core import cron, engine
from jobs.core.job_store import HeapJobStore

UTC_ZONE = cron.zone("UTC")
START = datetime(2030, 1, 1, tzinfo=UTC)


def placeholder() -> None:
    """What the jobs run; the executor only records that they were due."""


class Pair:
    """The same scheduler twice: ours (the heap) and APScheduler's (its list)."""

    def __init__(self) -> None:
        self.fired: dict[str, list[tuple[str, list[datetime]]]] = {"heap": [], "memory": []}
        self.heap = self._scheduler(HeapJobStore(), "heap")
        self.memory = self._scheduler(MemoryJobStore(), "memory")

    def _scheduler(self, store: object, name: str) -> AsyncIOScheduler:
        def submit(job_id: str, run_times: list[datetime]) -> None:
            self.fired[name].append((job_id, run_times))

        scheduler = AsyncIOScheduler(
            timezone=UTC_ZONE,
            jobstores={"default": store},
            executors={"default": engine.Executor(submit)},
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.start()
        return scheduler

    def both(self) -> Iterator[AsyncIOScheduler]:
        yield self.heap
        yield self.memory

    def listing(self, scheduler: AsyncIOScheduler) -> list[tuple[str, datetime | None]]:
        return [(job.id, job.next_run_time) for job in scheduler.get_jobs()]

    def assert_same(self) -> None:
        assert self.listing(self.heap) == self.listing(self.memory)
        for job in self.memory.get_jobs():
            mine = self.heap.get_job(job.id)
            assert mine is not None and mine.next_run_time == job.next_run_time
        heap_store = self.heap._lookup_jobstore("default")
        memory_store = self.memory._lookup_jobstore("default")
        assert heap_store.get_next_run_time() == memory_store.get_next_run_time()

    def shutdown(self) -> None:
        for scheduler in self.both():
            scheduler.shutdown(wait=False)


@pytest.fixture
async def pair() -> Iterator[Pair]:
    pair = Pair()
    yield pair
    pair.shutdown()


def trigger(expression: str) -> engine.CronTrigger:
    return engine.CronTrigger(cron.parse(expression), UTC_ZONE)


async def test_jobs_are_listed_soonest_first_ties_by_id_paused_last(pair: Pair) -> None:
    for scheduler in pair.both():
        for job_id, expression in [
            ("b", "0 12 * * *"),
            ("a", "0 12 * * *"),  # the same time as b: a comes first
            ("c", "0 6 * * *"),
            ("d", "*/5 * * * *"),
        ]:
            scheduler.add_job(
                placeholder,
                trigger(expression),
                id=job_id,
                name=job_id,
                next_run_time=trigger(expression).get_next_fire_time(None, START),
            )
        scheduler.add_job(placeholder, trigger("@daily"), id="paused", next_run_time=None)
    pair.assert_same()
    assert [job_id for job_id, _ in pair.listing(pair.heap)] == ["d", "c", "a", "b", "paused"]


async def test_pause_resume_reschedule_modify_and_remove_agree(pair: Pair) -> None:
    for scheduler in pair.both():
        for n in range(30):
            when = START + timedelta(minutes=n % 7)
            scheduler.add_job(placeholder, trigger("* * * * *"), id=f"j{n:02d}", next_run_time=when)
    pair.assert_same()
    steps = [
        lambda s: s.pause_job("j03"),
        lambda s: s.pause_job("j10"),
        lambda s: s.modify_job("j20", next_run_time=START - timedelta(hours=1)),
        lambda s: s.reschedule_job("j05", trigger=trigger("0 0 1 1 *")),
        lambda s: s.remove_job("j07"),
        lambda s: s.resume_job("j03"),
        lambda s: s.modify_job("j11", next_run_time=START + timedelta(minutes=3)),
        lambda s: s.add_job(placeholder, trigger("@hourly"), id="j07", next_run_time=START),
        lambda s: s.add_job(
            placeholder, trigger("@yearly"), id="j12", replace_existing=True, next_run_time=None
        ),
    ]
    for step in steps:
        for scheduler in pair.both():
            step(scheduler)
        pair.assert_same()
    for scheduler in pair.both():
        with pytest.raises(JobLookupError):
            scheduler.remove_job("nobody")
        with pytest.raises(ConflictingIdError):
            scheduler.add_job(placeholder, trigger("@daily"), id="j01")


async def test_due_jobs_fire_alike_and_move_on_to_their_next_time(pair: Pair) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for scheduler in pair.both():
        for n in range(20):
            due = now - timedelta(minutes=n % 3) if n % 2 else now + timedelta(days=1)
            scheduler.add_job(
                placeholder,
                IntervalTrigger(minutes=1, start_date=due),
                id=f"j{n:02d}",
                next_run_time=due,
            )
        scheduler.pause_job("j03")
        scheduler.wakeup()
    await asyncio.sleep(0.05)
    for _ in range(50):
        if len(pair.fired["heap"]) == len(pair.fired["memory"]) == 9:
            break
        await asyncio.sleep(0.05)
    assert sorted(pair.fired["heap"]) == sorted(pair.fired["memory"])
    assert {job_id for job_id, _ in pair.fired["heap"]} == {
        f"j{n:02d}" for n in range(1, 20, 2) if n != 3
    }
    pair.assert_same()  # each fired job waits for its next time, in both
    assert all(next_run is None or next_run > now for _, next_run in pair.listing(pair.heap))


async def test_many_jobs_added_in_one_step_are_listed_and_fire_as_added_one_by_one() -> None:
    """``Scheduler.add_jobs`` (the service's start-up path) against ``add_job`` per job."""
    fired: list[str] = []
    scheduler = engine.Scheduler(
        timezone=UTC_ZONE,
        jobstores={"default": HeapJobStore()},
        executors={"default": engine.Executor(lambda job_id, _: fired.append(job_id))},
        job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
    )
    reference = AsyncIOScheduler(
        timezone=UTC_ZONE,
        job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.start()
    reference.start(paused=True)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        jobs = [
            (f"j{n:04d}", trigger("*/5 * * * *"), None if n % 11 == 0 else now + timedelta(hours=n))
            for n in range(1000)
        ]
        jobs[7] = ("j0007", trigger("@daily"), now - timedelta(seconds=1))  # due at once
        scheduler.add_jobs(placeholder, jobs)
        for job_id, job_trigger, when in jobs:
            reference.add_job(placeholder, job_trigger, id=job_id, name=job_id, next_run_time=when)
        assert [(j.id, j.next_run_time, j.trigger) for j in scheduler.get_jobs()] == [
            (j.id, j.next_run_time, j.trigger) for j in reference.get_jobs()
        ]
        made = scheduler.get_job("j0001")
        assert made is not None
        assert (made.name, made.func, made.args, made.kwargs) == ("j0001", placeholder, (), {})
        assert (made.coalesce, made.max_instances, made.misfire_grace_time) == (False, 1, None)
        for _ in range(100):
            if fired:
                break
            await asyncio.sleep(0.02)
        assert fired == ["j0007"]
        # Added again (a job replaced): the new one stands, once.
        scheduler.add_jobs(placeholder, [("j0002", trigger("@hourly"), None)])
        assert scheduler.get_job("j0002").next_run_time is None  # type: ignore[union-attr]
        assert len(scheduler.get_jobs()) == 1000
    finally:
        scheduler.shutdown(wait=False)
        reference.shutdown(wait=False)
