"""When the console lets Python's collector pause it: full collections wait for a quiet
keyboard, at most once a minute and at least every five minutes.

The policy runs on a clock the test moves; the collector settings are the real ones.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jobs.service import SchedulerService
from tui.app import JobConsoleApp
from tui.collector import AT_MOST_SECONDS, EVERY_SECONDS, NEVER, QUIET_SECONDS, IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()
    if enabled:
        gc.enable()


@pytest.fixture
def collector(restore_gc: None) -> tuple[IdleCollector, Clock, list[float]]:
    clock, runs = Clock(), []
    collector = IdleCollector(monotonic=clock, collect=lambda: runs.append(clock.now))
    collector.start()
    return collector, clock, runs


def test_cpython_starts_no_full_collection_while_the_console_runs(restore_gc: None) -> None:
    young = gc.get_threshold()[:2]
    collector = IdleCollector()
    collector.start()
    assert gc.isenabled() and gc.get_threshold() == (*young, NEVER)
    collector.stop()
    assert gc.get_threshold()[2] != NEVER


def test_a_full_collection_waits_a_minute_then_runs_on_a_quiet_keyboard(collector) -> None:
    collector, clock, runs = collector
    clock.now += EVERY_SECONDS - 1
    assert not collector.tick() and runs == []
    clock.now += 1
    assert collector.tick() and runs == [clock.now]
    clock.now += 1
    assert not collector.tick()  # not again for another minute


def test_typing_puts_it_off_until_the_keyboard_is_quiet(collector) -> None:
    collector, clock, runs = collector
    clock.now += EVERY_SECONDS
    for _ in range(10):  # a key every half second
        collector.input_seen()
        clock.now += 0.5
        assert not collector.tick()
    clock.now += QUIET_SECONDS
    assert collector.tick() and len(runs) == 1


def test_a_keyboard_never_quiet_puts_it_off_five_minutes_at_most(collector) -> None:
    collector, clock, runs = collector
    while not runs:
        collector.input_seen()
        clock.now += 1
        collector.tick()
    assert runs == [1000.0 + AT_MOST_SECONDS]


async def test_the_console_gives_the_collector_back_when_it_ends(
    service: SchedulerService, restore_gc: None
) -> None:
    before = gc.get_threshold()
    app = JobConsoleApp(service, manage_gc=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert gc.get_threshold()[2] == NEVER
    assert gc.get_threshold() == before
