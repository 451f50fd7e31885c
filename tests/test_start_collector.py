"""A start holds Python's cyclic collector off while it builds its jobs (a quarter of a
100,000-job start went to collections walking them) and always gives it back as the
program had it: on once every job is scheduled, off if the program had turned it off,
and on again when the start is cut short by a shutdown or fails."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import jobs.core.scheduling as scheduling_module
from jobs import EventKind, SchedulerService
from tests import jobfuncs_core as jf

Factory = Callable[..., SchedulerService]
YEARLY = "0 0 1 1 *"


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs handed over four at a time: twenty jobs take several loop iterations."""
    monkeypatch.setattr(scheduling_module, "SCHEDULE_CHUNK", 4)


def _with_jobs(make: Factory, count: int = 20) -> SchedulerService:
    service = make()
    for i in range(count):
        service.register_job(f"job{i:02d}", jf.ok_async, YEARLY)
    return service


async def _stop(service: SchedulerService) -> None:
    task = service.shutdown(timeout=0)
    if task is not None:
        await asyncio.wait_for(task, 10)


async def test_the_collector_is_off_while_jobs_are_handed_over_and_on_once_all_are(
    make: Factory, small_chunks: None
) -> None:
    service = _with_jobs(make)
    started = asyncio.Event()
    service.subscribe(lambda e: started.set() if e.kind is EventKind.SCHEDULER_STARTED else None)
    service.start()
    assert not gc.isenabled()  # the rest of the jobs are still being handed over
    await asyncio.wait_for(started.wait(), 10)
    assert gc.isenabled()
    await _stop(service)
    assert gc.isenabled()


async def test_a_program_that_turned_the_collector_off_finds_it_off(
    make: Factory, small_chunks: None
) -> None:
    gc.disable()
    service = _with_jobs(make)
    started = asyncio.Event()
    service.subscribe(lambda e: started.set() if e.kind is EventKind.SCHEDULER_STARTED else None)
    service.start()
    await asyncio.wait_for(started.wait(), 10)
    assert not gc.isenabled()
    await _stop(service)
    assert not gc.isenabled()


async def test_a_shutdown_during_the_hand_over_gives_the_collector_back(
    make: Factory, small_chunks: None
) -> None:
    service = _with_jobs(make)
    service.start()
    assert not gc.isenabled()
    await _stop(service)
    assert gc.isenabled()


async def test_a_start_that_fails_gives_the_collector_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Factory
) -> None:
    service = _with_jobs(make)

    def broken() -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(service, "load_state", broken)
    with pytest.raises(OSError, match="the disk went away"):
        service.start()
    assert gc.isenabled()
