"""The log pane follows new executions, through Pilot at the console's real size.

Each test drives the real app over a real SchedulerService with a clock it moves by hand
(a second per run, so every line of the log reads differently), and checks the lines
the pane draws: the newest execution must be the pane's last line unless the user has
scrolled up. The pane holds about nine lines at 120x35; every test logs more than that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from jobs.core.client import LocalClient
from jobs.core.records import Execution, ExecutionStatus, Trigger
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store
from tests import jobfuncs_store
from tests.test_app import wait_until
from tui.app import JobConsoleApp
from tui.widgets import ExecutionLog, JobTable

SIZE = (120, 35)
YEARLY = "0 0 1 1 *"  # never fires while a test runs
START = datetime(2026, 3, 4, 9, 0, 0, tzinfo=UTC)


class Clock:
    """The time the service stamps executions with, and the console shows."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


def drawn(log: ExecutionLog) -> list[str]:
    """The lines the pane draws now, top to bottom, without its border."""
    strips = log.render_lines(log.region.reset_offset)
    lines = [strip.text.rstrip() for strip in strips]
    return lines[-log.scrollable_content_region.height :]


def assert_newest_shown(log: ExecutionLog, why: str = "") -> None:
    """The pane draws the newest lines, the newest last, its scrollbar's thumb at the end."""
    height = log.scrollable_content_region.height
    assert len(log.lines) > height, "the test needs more lines than the pane shows"
    assert drawn(log) == [line.rstrip() for line in log.lines[-height:]], why
    assert log.scroll_y == log.max_scroll_y
    assert log.vertical_scrollbar.position == log.scroll_y, "the thumb is where the lines are"


def console(
    service_factory: Callable[..., SchedulerService], *job_ids: str
) -> tuple[JobConsoleApp, Clock]:
    """A console on a service with a controlled clock and ``job_ids`` (quick, yearly)."""
    clock = Clock()
    service = service_factory(clock=clock)
    for job_id in job_ids:
        service.register_job(job_id, "tests.jobfuncs:quick", YEARLY)
    return JobConsoleApp(LocalClient(service), clock=clock), clock


async def run_times(pilot: Pilot, clock: Clock, job_id: str, times: int) -> None:
    """Run ``job_id`` now ``times`` times, one after the other, a second apart."""
    app = pilot.app
    assert isinstance(app, JobConsoleApp)
    table = app.query_one(JobTable)
    for _ in range(times):
        clock.tick()
        done = table.get_job(job_id).run_count + 1
        app.client.service.run_job_now(job_id)
        await wait_until(pilot, lambda done=done: table.get_job(job_id).run_count >= done)
    await pilot.pause()


# ----------------------------------------------------------------- scoping the log


async def test_after_scoping_to_a_job_and_back_the_log_shows_and_follows_the_newest(
    service_factory,
) -> None:
    app, clock = console(service_factory, "a", "b")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await run_times(pilot, clock, "a", 1)
        await run_times(pilot, clock, "b", 8)
        assert_newest_shown(log)

        await pilot.press("l")  # the selected job, "a": two lines, nothing to scroll
        assert log.border_title == "Log: a"
        await pilot.press("l")
        await pilot.pause()
        assert log.border_title == "Log: all jobs"
        assert_newest_shown(log, "back to all jobs: the newest lines")

        await run_times(pilot, clock, "b", 3)
        assert_newest_shown(log, "and it follows new executions")


async def test_a_scoped_log_longer_than_the_pane_shows_and_follows_the_newest(
    service_factory,
) -> None:
    app, clock = console(service_factory, "a", "b")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await run_times(pilot, clock, "a", 12)
        await run_times(pilot, clock, "b", 2)
        await pilot.press("j", "l")  # "b": two lines (its history: finished runs)
        await pilot.press("k")  # the scoped log follows the selection: "a", twelve lines
        await pilot.pause()
        assert log.border_title == "Log: a"
        assert_newest_shown(log)
        await run_times(pilot, clock, "a", 2)
        assert_newest_shown(log)


# ----------------------------------------------------------- the user scrolls


async def test_scrolled_up_the_log_stays_put_and_at_the_end_it_follows_again(
    service_factory,
) -> None:
    app, clock = console(service_factory, "b")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await run_times(pilot, clock, "b", 10)
        await pilot.press("tab", "home")  # to the log, then to its oldest line
        await pilot.pause()
        assert app.focused is log
        top = drawn(log)
        assert top[0] == log.lines[0].rstrip()
        await run_times(pilot, clock, "b", 2)
        assert drawn(log) == top, "what the user reads stays in place"
        await pilot.press("end")
        await pilot.pause()
        assert_newest_shown(log)
        await run_times(pilot, clock, "b", 2)
        assert_newest_shown(log)


async def test_the_log_still_shows_the_newest_when_the_terminal_shrinks(
    service_factory,
) -> None:
    app, clock = console(service_factory, "b")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await run_times(pilot, clock, "b", 10)
        height = log.scrollable_content_region.height
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        assert log.scrollable_content_region.height < height
        assert_newest_shown(log)
        await run_times(pilot, clock, "b", 1)
        assert_newest_shown(log)


# ------------------------------------------------------- a restart on a state file


def open_service(path: Path, clock: Callable[[], datetime], **settings: object) -> SchedulerService:
    config = Settings(timezone="UTC", state_path=path, **settings)  # type: ignore[arg-type]
    return SchedulerService(config, store=Store.open(config), clock=clock)


@pytest.fixture
async def stopping() -> AsyncIterator[list[SchedulerService]]:
    """Services appended here are shut down (and their state files let go) at the end."""
    services: list[SchedulerService] = []
    yield services
    for service in services:
        task = service.shutdown(timeout=0)
        if task is not None:
            await task


def write_history(path: Path, job_id: str, runs: int, first: datetime) -> None:
    """What an earlier session left: ``runs`` executions of ``job_id``, a minute apart."""
    store = Store.open_path(path)
    try:
        for minute in range(runs):
            started = first + timedelta(minutes=minute, seconds=1)
            store.record_execution(
                Execution(
                    id=store.next_execution_id(),
                    job_id=job_id,
                    status=ExecutionStatus.SUCCEEDED,
                    scheduled_time=started - timedelta(seconds=1),
                    started_at=started,
                    ended_at=started + timedelta(seconds=2),
                    trigger=Trigger.SCHEDULE,
                )
            )
        store.mark_alive(first + timedelta(minutes=runs))
        store.flush()
    finally:
        store.close()


async def test_after_a_restart_the_log_shows_the_newest_history_and_follows_new_runs(
    tmp_path: Path, stopping: list[SchedulerService]
) -> None:
    path = tmp_path / "state.sqlite3"
    write_history(path, "b", 30, START - timedelta(hours=1))
    clock = Clock()
    service = open_service(path, clock)
    stopping.append(service)
    service.register_job("b", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service), clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await pilot.pause()
        assert sum(" b " in line for line in log.lines) == 30
        assert_newest_shown(log, "history loaded at start: its newest lines")
        await run_times(pilot, clock, "b", 2)
        assert "09:00:02" in log.lines[-1]
        assert_newest_shown(log, "and it follows new executions")


# --------------------------------------------------- the catch-up notice in the log

NOW = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grace", "missed", "last_due", "runs_latest"),
    [(60.0, 9, "11:59", True), (10.0, 10, "12:00", False)],
    ids=["latest-runs-inside-grace", "latest-outside-grace"],
)
async def test_the_missed_notice_names_the_last_run_that_was_missed(
    tmp_path: Path,
    stopping: list[SchedulerService],
    grace: float,
    missed: int,
    last_due: str,
    runs_latest: bool,
) -> None:
    """The latest run (12:00) is run at start when within the grace: then the last one
    missed is 11:59, and the notice must say so, not 12:00."""
    notice = (
        f"missed {missed} run(s) due while jobconsole was not running "
        f"(last due 2026-03-04 {last_due} UTC)"
    )
    path = tmp_path / "state.sqlite3"
    store = Store.open_path(path)
    store.mark_alive(NOW - timedelta(minutes=10))  # due while stopped: 11:51 ... 12:00
    store.flush()
    store.close()
    service = open_service(path, lambda: NOW, misfire_grace_seconds=grace)
    stopping.append(service)
    service.register_job("tick", jobfuncs_store.ok, "* * * * *")
    app = JobConsoleApp(LocalClient(service), clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await wait_until(pilot, lambda: any("missed" in line for line in log.lines))
        shown = [line for line in log.lines if "missed" in line]
        assert len(shown) == 1 and notice in shown[0], shown
        assert service.store is not None
        service.store.flush()
        latest = [
            e
            for e in service.recent_executions("tick")
            if e.scheduled_time == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
        ]
        assert [e.error for e in latest if e.status is ExecutionStatus.MISSED] == [notice]
        if runs_latest:
            await wait_until(
                pilot, lambda: any("tick" in line and "succeeded" in line for line in log.lines)
            )


# ------------------------------------------------------ what someone did is logged


async def test_what_is_done_to_jobs_is_in_the_log_not_only_in_a_toast(service_factory) -> None:
    app, _ = console(service_factory, "alpha")
    service = app.client.service
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ExecutionLog)
        await pilot.press("p")
        await wait_until(
            pilot, lambda: any("alpha" in line and "paused" in line for line in log.lines)
        )
        await pilot.press("r")
        await wait_until(pilot, lambda: any("resumed" in line for line in log.lines))
        # The same lines for what another console (or the API) does.
        service.reschedule_job("alpha", "*/5 * * * *")
        service.set_timeout("alpha", 30)
        service.disable_job("alpha")
        service.enable_job("alpha")
        service.register_job("beta", "tests.jobfuncs:quick", YEARLY)
        service.remove_job("beta")
        await wait_until(pilot, lambda: sum("beta" in line for line in log.lines) == 2)
        done = [
            line.split(None, 1)[1] for line in log.lines if " alpha " in line or " beta " in line
        ]
        assert [" ".join(line.split()) for line in done] == [
            "alpha paused",
            "alpha resumed",
            "alpha rescheduled to */5 * * * *",
            "alpha updated timeout 30s",
            "alpha disabled",
            "alpha enabled",
            f"beta added tests.jobfuncs:quick {YEARLY}",
            "beta removed",
        ]
