"""When the console lets Python's collector pause it: a full collection waits for a
pause between keys, comes no more often than every EVERY_SECONDS, and a key held down
puts it off for AT_MOST_SECONDS at most.

The policy runs on a clock the test moves; the collector settings are the real ones.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from tui.app import JobConsoleApp
from tui.collector import AT_MOST_SECONDS, EVERY_SECONDS, GAP_SECONDS, NEVER, IdleCollector


class Clock:
    """The monotonic clock, and the app's timers on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.timers: list[tuple[float, Callable[[], object]]] = []

    def __call__(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Callable[[], object]) -> None:
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        """Move time on, firing the timers that come due on the way."""
        end = self.now + seconds
        while due := sorted((t for t in self.timers if t[0] <= end), key=lambda t: t[0]):
            when, callback = due[0]
            self.timers.remove(due[0])
            self.now = when
            callback()
        self.now = end


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()
    if enabled:
        gc.enable()


class Console:
    """An IdleCollector as the app drives it: ``tick`` each second, ``key`` on input."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.runs: list[float] = []
        self.aged = 10  # younger collections since the last full one
        self.collector = IdleCollector(
            self.clock.schedule,
            monotonic=self.clock,
            collect=lambda: self.runs.append(self.clock.now),
            aged=lambda: self.aged,
            wall=lambda: self.clock.now - 1000.0 + 30.0,  # half a minute into a minute at start
        )
        self.collector.start()

    def tick(self) -> None:
        self.clock.advance(1)
        self.collector.check()

    def key(self) -> None:
        self.collector.input_seen()


@pytest.fixture
def console(restore_gc: None) -> Console:
    return Console()


def test_cpython_starts_no_full_collection_while_the_console_runs(restore_gc: None) -> None:
    young = gc.get_threshold()[:2]
    collector = IdleCollector(lambda delay, callback: None)
    collector.start()
    assert gc.isenabled() and gc.get_threshold() == (*young, NEVER)
    collector.stop()
    assert gc.get_threshold()[2] != NEVER


def test_an_idle_console_collects_every_so_often(console: Console) -> None:
    for _ in range(int(EVERY_SECONDS) - 1):
        console.tick()
    assert console.runs == []
    console.tick()
    assert console.runs == [1000.0 + EVERY_SECONDS]


def test_no_collection_lands_on_the_minute_when_cron_jobs_start(console: Console) -> None:
    console.clock.advance(EVERY_SECONDS + 14.5)  # due, and half a second before a minute
    console.collector.check()
    console.clock.advance(1.0)  # half a second after it
    console.collector.check()
    assert console.runs == []
    console.clock.advance(1.0)
    console.collector.check()
    assert console.runs == [pytest.approx(1000.0 + EVERY_SECONDS + 16.5)]


def test_nothing_is_collected_when_little_has_aged(console: Console) -> None:
    console.aged = 9  # CPython's default threshold is 10
    for _ in range(int(AT_MOST_SECONDS) + 10):
        console.tick()
    assert console.runs == []


def test_a_due_collection_waits_for_a_pause_between_keys(console: Console) -> None:
    console.clock.advance(EVERY_SECONDS)
    console.key()
    console.collector.check()  # the tick finds it due while keys come
    for _ in range(40):  # two seconds of keys 50 ms apart
        console.clock.advance(0.05)
        console.key()
    assert console.runs == []
    last_key = console.clock.now
    console.clock.advance(1)
    assert console.runs == [pytest.approx(last_key + GAP_SECONDS)]


def test_a_key_held_down_puts_it_off_a_minute_at_most(console: Console) -> None:
    while not console.runs:
        for _ in range(30):  # auto-repeat: a key every 33 ms
            console.key()
            console.clock.advance(1 / 30)
        console.collector.check()
    assert console.runs[0] - 1000.0 == pytest.approx(AT_MOST_SECONDS, abs=1.1)


async def test_the_console_gives_the_collector_back_when_it_ends(
    service: SchedulerService, restore_gc: None
) -> None:
    before = gc.get_threshold()
    app = JobConsoleApp(LocalClient(service), manage_gc=True)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert gc.get_threshold()[2] == NEVER
    assert gc.get_threshold() == before
