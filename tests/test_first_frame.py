"""The console's first frame comes before the registry has loaded (issue 15).

A big registry's first entries are drawn at once and the rest load after the first frame,
a step per loop iteration, the status line saying so. These tests drive the real console
(Pilot) on a real service with 20,000 entries and check what a user sees while it loads
and once it has: the rows, the counts, the saved sort, a filter typed meanwhile, a bad
entry's row, a key pressed meanwhile, and a state file whose rows must be merged first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jobs.core.client import LocalClient
from jobs.core.records import JobState
from jobs.core.registry_loader import load_registry_entries
from jobs.core.service import SchedulerService
from jobs.core.settings import KEYS
from tests.jobfuncs import quick
from tests.test_app import SIZE, YEARLY, status_text, toasts, wait_until
from tui.app import FIRST_ENTRIES, JobConsoleApp
from tui.preferences import Preferences, PreferenceStore
from tui.widgets import ExecutionLog, JobTable

#: Enough entries that loading them takes several loop iterations (~20 steps).
COUNT = 20_000
LOADED = 30.0  # seconds: generous, for a loaded machine


def entries(count: int = COUNT, **bad: str) -> list[dict[str, Any]]:
    """``count`` valid registry entries, ``job00000`` on; ``bad`` gives some of them
    (by id) a cron expression that is refused."""
    made = []
    for index in range(count):
        job_id = f"job{index:05d}"
        made.append({"job_id": job_id, "func": quick, "cron_expression": bad.get(job_id, YEARLY)})
    return made


def first_row(app: JobConsoleApp) -> str:
    return app.query_one(JobTable).job_ids()[0]


def empty_line(app: JobConsoleApp) -> str:
    return str(app.query_one(JobTable).render_line(1).text)


async def loaded(pilot: Pilot) -> None:
    """Until every entry is loaded and every job scheduled: the status says running."""
    await wait_until(pilot, lambda: "● running" in status_text(pilot.app), timeout=LOADED)


def staged(service: SchedulerService, registry: list[dict[str, Any]]) -> SchedulerService:
    service.stage_registry(registry)
    return service


async def test_the_first_frame_shows_the_first_jobs_and_says_it_is_loading(make) -> None:
    app = JobConsoleApp(LocalClient(staged(make(), entries())))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        assert table.job_count == FIRST_ENTRIES
        assert first_row(app) == "job00000"
        assert table.selected_job_id == "job00000"
        assert "loading jobs:" in status_text(app)
        assert f"of {COUNT:,}" in status_text(app)

        await loaded(pilot)
        assert table.job_count == COUNT
        assert f"{COUNT:,} jobs" in status_text(app)
        assert "loading" not in status_text(app)
        assert table.state_counts()[JobState.SCHEDULED] == COUNT
        assert table.get_job("job19999").next_run_time is not None


async def test_a_bad_entry_is_an_error_row_once_loaded_never_a_job_first(make) -> None:
    registry = entries(job00003="61 * * * *", job12345="not cron")
    # Named as when loaded at once: the later, good job00003 is the job; a second
    # job00010 is refused as a duplicate.
    registry += [
        {"job_id": "job00003", "func": quick, "cron_expression": YEARLY},
        {"job_id": "job00010", "func": quick, "cron_expression": YEARLY},
    ]
    app = JobConsoleApp(LocalClient(staged(make(), registry)))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        assert table.get_job("job00003") is None  # not drawn as a job while loading
        await loaded(pilot)
        said = " ".join(await toasts(pilot))
        for row_id, place, why in (
            ("registry entry 4", 4, "minute field: 61 is out of range"),
            ("job12345", 12346, "expected 5 fields"),
            ("registry entry 20002", 20002, "already registered"),
        ):
            row = table.get_job(row_id)
            assert row is not None and row.state is JobState.ERROR, row_id
            assert why in row.description
            assert f"registry entry {place} (" in said
        assert table.get_job("job00003").state is JobState.SCHEDULED
        assert table.job_count == COUNT + 2  # 19,999 jobs and three error rows
        assert table.state_counts()[JobState.ERROR] == 3
        log = app.query_one(ExecutionLog)
        assert any("job12345" in line and "not loaded" in line for line in log.lines)


async def test_the_saved_sort_orders_the_first_frame_and_then_every_job(make) -> None:
    preferences = PreferenceStore()
    preferences.save(Preferences(sort_column="id", sort_reverse=True))
    app = JobConsoleApp(LocalClient(staged(make(), entries())), preferences=preferences)
    async with app.run_test(size=SIZE) as pilot:
        # The jobs loaded so far, in the saved order: the rest come in above them.
        assert first_row(app) == f"job{FIRST_ENTRIES - 1:05d}"
        await loaded(pilot)
        assert first_row(app) == "job19999"
        table = app.query_one(JobTable)
        assert (table.sort_column, table.sort_reverse) == ("id", True)


async def test_sorted_by_next_run_every_job_is_in_order_once_all_are_scheduled(make) -> None:
    """Once the start has handed every job over, the table takes their next run times
    (not every job read again) and puts the rows in their order."""
    registry = entries()
    registry[-1]["cron_expression"] = "* * * * *"  # the last entry loaded fires first
    registry[5]["cron_expression"] = "0 * * * *"
    preferences = PreferenceStore()
    preferences.save(Preferences(sort_column="next"))
    app = JobConsoleApp(LocalClient(staged(make(), registry)), preferences=preferences)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.query_one(JobTable)
        shown = table.job_ids()
        assert shown[:3] == ["job19999", "job00005", "job00000"]
        times = [table.get_job(job_id).next_run_time for job_id in shown]
        assert None not in times and times == sorted(times)
        assert table.state_counts()[JobState.SCHEDULED] == COUNT


async def test_a_filter_typed_while_loading_filters_every_job_once_loaded(make) -> None:
    app = JobConsoleApp(LocalClient(staged(make(), entries())))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"job1999")
        table = app.query_one(JobTable)
        if table.job_count < COUNT:  # still loading: none of the first jobs matches
            assert table.row_count == 0
            assert "No job loaded yet matches 'job1999'" in empty_line(app)
        await loaded(pilot)
        assert table.job_ids() == [f"job1999{digit}" for digit in range(10)]
        assert f"10/{COUNT:,} jobs" in status_text(app)


async def test_a_key_pressed_while_loading_does_what_it_says(make) -> None:
    service = staged(make(), entries())
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        assert table.job_count == FIRST_ENTRIES
        await pilot.press("p")  # on job00000, while the rest is still loading
        await pilot.pause()
        assert service.get_job("job00000").state is JobState.PAUSED
        assert "Paused job00000" in " ".join(await toasts(pilot))
        assert table.job_count == COUNT  # it loaded the rest first
        await loaded(pilot)
        assert table.get_job("job00000").state is JobState.PAUSED


async def test_with_stored_rows_no_job_is_drawn_before_the_merge(durable) -> None:
    first = durable()
    first.load_registry(entries())
    first.pause_job("job00007")
    first.close()  # the state file now holds every job, one of them paused

    app = JobConsoleApp(LocalClient(staged(durable(), entries())))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        if table.job_count == 0:  # the merge is not done: nothing to draw yet
            assert "Loading the jobs (loading jobs:" in empty_line(app)
        else:
            assert table.job_count == COUNT
        await loaded(pilot)
        assert table.get_job("job00007").state is JobState.PAUSED
        assert table.state_counts()[JobState.PAUSED] == 1
        assert table.job_count == COUNT


async def test_the_last_step_merges_the_state_file_even_with_no_entry_left(durable) -> None:
    first = durable()
    first.start()
    first.register_job("from-console", "tests.jobfuncs:quick", YEARLY)  # stored, restored
    task = first.shutdown(timeout=0)
    assert task is not None
    await task

    again = staged(durable(), [])
    assert again.get_jobs() == []  # nothing loaded nor merged yet
    assert again.load_registry_step(FIRST_ENTRIES).done
    assert [job.job_id for job in again.get_jobs()] == ["from-console"]


BIG_REGISTRY = """
from tests.jobfuncs import quick

REGISTERED_JOBS = [
    {"job_id": f"job{i:06d}", "func": quick, "cron_expression": "0 0 1 1 *"}
    for i in range(100_000)
]
"""


async def test_the_loading_line_in_a_real_terminal_counts_up_while_it_loads(
    tmp_path: Path, durable
) -> None:
    """On a restart the table says how far the loading is, and the terminal is redrawn
    as the count goes up (it once stayed at the first step's count until the end)."""
    import re

    from tests.console_pty import Console

    (tmp_path / "bigpty.py").write_text(BIG_REGISTRY)
    sys.path.insert(0, str(tmp_path))
    try:
        first = durable()
        first.load_registry(load_registry_entries("bigpty"))
        first.pause_job("job000007")
        first.close()  # every job has a row: the console merges them before drawing any
    finally:
        sys.path.remove(str(tmp_path))
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update(
        JOBCONSOLE_REGISTRY="bigpty",
        JOBCONSOLE_STATE=str(tmp_path / "state.sqlite3"),
        JOBCONSOLE_TIMEZONE="UTC",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(__file__).parent.parent)]),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    console = Console(tmp_path, env)
    later = re.compile(rb"Loading the jobs \(loading jobs: ([\d,]+) of 100,000\)")
    try:
        console.until(lambda: "● running".encode() in console.screen, "every job scheduled", 120)
        counts = {int(n.replace(b",", b"")) for n in later.findall(console.screen)}
        assert counts and max(counts) > FIRST_ENTRIES, counts
    finally:
        console.close()


def scoped(service: SchedulerService) -> tuple[JobConsoleApp, PreferenceStore]:
    """The console over ``service`` with a log scope saved on a job loaded after the first
    entries: applied once loading ends."""
    preferences = PreferenceStore()
    preferences.save(Preferences(log_scope="job00150"))
    return JobConsoleApp(LocalClient(service), preferences=preferences), preferences


async def test_a_key_pressed_while_loading_acts_on_the_row_under_the_cursor(make) -> None:
    """A saved log scope is applied once loading ends; a key pressed before that acts on
    the job the user sees selected, and the cursor stays there."""
    service = staged(make(), entries())
    app, _ = scoped(service)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        assert table.job_count == FIRST_ENTRIES
        await pilot.press("down")
        assert table.selected_job_id == "job00001"
        await pilot.press("p")  # loads the rest first, then pauses
        await loaded(pilot)
        paused = [job.job_id for job in service.get_jobs() if job.state is JobState.PAUSED]
        assert paused == ["job00001"]
        assert table.selected_job_id == "job00001"


async def test_a_cursor_moved_while_loading_stays_where_it_was_moved(make) -> None:
    app, _ = scoped(staged(make(), entries()))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("down", "down", "down")
        await loaded(pilot)
        assert table.selected_job_id == "job00003"


async def test_quitting_while_loading_keeps_the_saved_log_scope(make) -> None:
    app, preferences = scoped(staged(make(), entries()))
    async with app.run_test(size=SIZE) as pilot:
        assert "loading jobs:" in status_text(app)
        await pilot.press("q")
        await pilot.pause()
    assert preferences.load()[0].log_scope == "job00150"
