"""The timeline (issue 14, pictures): when every job fires, on one time axis.

The counting is plain data (``tui.timeline``), checked against hand-worked windows; the
screen is the real app over a real service, driven by Pilot.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Static

from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from tests.test_app import SIZE, wait_until
from tui import timeline
from tui.app import JobConsoleApp
from tui.screens import TimelineScreen
from tui.screens.timeline import SHADES, bars

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday


async def snapshots(service: SchedulerService) -> list:
    return await LocalClient(service).get_jobs()


async def test_fires_are_counted_in_their_slice_in_each_jobs_own_zone(
    service: SchedulerService,
) -> None:
    service.register_job("quarterly", "tests.jobfuncs:quick", "*/15 * * * *")
    service.register_job("paris_nine", "tests.jobfuncs:quick", "0 9 * * *", timezone="Europe/Paris")
    service.register_job("utc_nine", "tests.jobfuncs:quick", "0 9 * * *")
    service.register_job("held", "tests.jobfuncs:quick", "* * * * *")
    service.pause_job("held")
    counted = timeline.build(await snapshots(service), START, timedelta(hours=24), 24)
    lanes = {lane.job_id: lane for lane in counted.lanes}
    assert set(lanes) == {"quarterly", "paris_nine", "utc_nine"}
    assert counted.idle == 1  # the paused one does not fire
    assert lanes["quarterly"].counts == (4,) * 24
    assert lanes["paris_nine"].counts[8] == 1 and lanes["paris_nine"].fires == 1  # 09:00 CET
    assert lanes["utc_nine"].counts[9] == 1 and lanes["utc_nine"].fires == 1
    assert counted.total[8] == 5 and counted.total[9] == 5 and counted.total[0] == 4
    assert counted.busiest == (8, 5)
    # Ordered by first fire: the every-15-minutes job fires at the window's first instant.
    assert [lane.job_id for lane in counted.lanes] == ["quarterly", "paris_nine", "utc_nine"]


async def test_a_fire_past_a_dst_change_lands_in_the_right_slice(
    service: SchedulerService,
) -> None:
    # New York springs forward on 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 after.
    service.register_job(
        "ny_nine", "tests.jobfuncs:quick", "0 9 * * *", timezone="America/New_York"
    )
    start = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    counted = timeline.build(await snapshots(service), start, timedelta(days=2), 48)
    (lane,) = counted.lanes
    assert [index for index, count in enumerate(lane.counts) if count] == [14, 24 + 13]


async def test_a_job_firing_too_often_is_counted_up_to_the_cap_and_said_so(
    service: SchedulerService,
) -> None:
    service.register_job("busy", "tests.jobfuncs:quick", "* * * * *")
    counted = timeline.build(await snapshots(service), START, timedelta(days=30), 30)
    assert counted.cut == 1
    assert counted.lanes[0].fires == timeline.MAX_FIRES_PER_EXPRESSION


def test_bars_are_blank_for_no_fire_and_scaled_from_zero() -> None:
    assert bars((0, 1, 8, 16), 16, SHADES) == " ░▒█"
    assert bars((15, 16, 15, 16), 16, SHADES) == "████"  # not full swings for 15 against 16
    assert bars((0, 0), 0, SHADES) == "  "


async def test_w_opens_the_timeline_and_plus_and_minus_change_its_window(
    service: SchedulerService,
) -> None:
    service.register_job("every_minute", "tests.jobfuncs:quick", "* * * * *")
    service.register_job("nightly", "tests.jobfuncs:quick", "0 3 * * *")
    app = JobConsoleApp(
        LocalClient(service), clock=lambda: datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        await wait_until(pilot, lambda: screen.timeline is not None)
        assert "the next 24 hours" in screen.text
        assert "UTC (UTC+00:00)" in screen.text
        assert "1,441 fires of 2 jobs" in screen.text  # 1,440 minutes and 03:00 once
        axis = str(screen.query_one("#timeline-axis", Static).render())
        assert "|12:00" in axis and "|00:00" in axis
        await pilot.press("minus")
        await wait_until(pilot, lambda: "the next 6 hours" in screen.text)
        assert "360 fires of 2 jobs" in screen.text
        await pilot.press("plus", "plus")
        await wait_until(pilot, lambda: "the next 7 days" in screen.text)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
