"""The console remembers its theme, sort and log scope between runs (issue 14, item 4).

The real app through Pilot, with a real preferences file under ``tmp_path``: one run
chooses, the next starts as it was left.
"""

from __future__ import annotations

import json
from pathlib import Path

from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from tests.test_app import SIZE, YEARLY, toasts
from tui.app import JobConsoleApp
from tui.preferences import FilePreferences, Preferences
from tui.widgets import ExecutionLog, JobTable


def add(service: SchedulerService) -> None:
    for job_id in ("alpha", "beta"):
        service.register_job(job_id, "tests.jobfuncs:quick", YEARLY)


async def test_theme_sort_and_log_scope_are_kept_for_the_next_run(tmp_path: Path, make) -> None:
    path = tmp_path / "config" / "jobconsole" / "preferences.json"
    first = make()
    add(first)
    app = JobConsoleApp(LocalClient(first), preferences=FilePreferences(path))
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await pilot.press("s", "c", "S")  # sort by the cron column, reversed
        await pilot.press("a")  # alerts on
        await pilot.press("l")  # the log scoped to the selected job
        await pilot.pause()
        table = app.query_one(JobTable)
        chosen = (table.sort_column, table.sort_reverse, app.query_one(ExecutionLog).scope)
    saved = json.loads(path.read_text())
    assert saved == {
        "theme": "textual-light",
        "sort_column": chosen[0],
        "sort_reverse": True,
        "log_scope": chosen[2],
        "alerts": True,
    }
    assert chosen[2] is not None

    second = make()
    add(second)
    again = JobConsoleApp(LocalClient(second), preferences=FilePreferences(path))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = again.query_one(JobTable)
        assert again.theme == "textual-light"
        assert (table.sort_column, table.sort_reverse) == chosen[:2]
        assert again.query_one(ExecutionLog).scope == chosen[2]
        assert again.alerts


async def test_a_broken_file_gives_the_defaults_and_a_note_and_is_left_alone(
    tmp_path: Path, service: SchedulerService
) -> None:
    path = tmp_path / "preferences.json"
    path.write_text("{not json")
    add(service)
    app = JobConsoleApp(LocalClient(service), preferences=FilePreferences(path))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert any("not read" in text for text in await toasts(pilot))
        app.theme = "textual-light"
    assert path.read_text() == "{not json"


def test_values_it_does_not_know_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps({"theme": 7, "sort_column": "id", "sort_reverse": "yes", "x": 1}))
    assert FilePreferences(path).load() == (Preferences(sort_column="id"), None)
