"""The key bar does not keep its old keys alive (Textual issue #6666, worked around in
``tui/widgets/footer.py``): the footer is rebuilt on every change of focus."""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from tui.app import JobConsoleApp
from tui.widgets import Footer


async def test_opening_and_closing_the_filter_leaves_no_dead_keys_alive(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test() as pilot:
        app.app_focus = True  # a real terminal has focus; the footer only then rebuilds
        await pilot.pause()
        for _ in range(10):
            await pilot.press("slash")
            await pilot.press("escape")
        await pilot.pause()
        gc.collect()
        shown = set(app.query_one(Footer).query(FooterKey))
        alive = [o for o in gc.get_objects() if isinstance(o, FooterKey) and o not in shown]
        assert shown and alive == []
