"""SVG snapshots of what a person sees: the main screen, the form with an error, the detail.

Stable by construction: the app and the service share a frozen clock, the job set is
fixed, and the scheduler is not started (so nothing fires during a snapshot) or scheduling
is off. Executions are real ones, started with ``run_job_now`` at the frozen instant.
Review every changed SVG before accepting it (``pytest --snapshot-update``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from jobs.core.client import LocalClient
from jobs.core.memory_store import MemoryStore
from jobs.core.records import Execution, ExecutionStatus, JobState
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.state_store import StateStore
from jobs.core.store import Store
from tui.app import JobConsoleApp
from tui.widgets import JobTable

FROZEN = datetime(2026, 11, 30, 9, 30, 15, tzinfo=UTC)  # a Monday morning


def frozen() -> datetime:
    return FROZEN


#: What the state file remembers of each job, oldest first: a status letter a run
#: (s succeeded, f failed, t timed out, m missed) and the seconds each took.
HISTORY = {
    "cleanup_expired_tokens": ("sssss", (41.0, 44.5, 39.2, 52.8, 47.1), 86400),
    "heartbeat": ("sssssmssssss", (0.2, 0.3, 0.2, 0.9, 0.4, 0, 0.3, 0.2, 1.4, 0.6, 0.3, 0.2), 60),
    "partner_sync": ("ssfsstsffs", (2.1, 2.4, 0.8, 2.2, 2.9, 30.0, 2.0, 0.7, 0.9, 2.3), 180),
    "daily_report": ("ssms", (12.5, 14.0, 0, 13.1), 86400),
}
_ERROR = {"f": "RuntimeError: boom: the partner API said no", "t": "timed out after 30s"}
_LETTER = {
    "s": ExecutionStatus.SUCCEEDED,
    "f": ExecutionStatus.FAILED,
    "t": ExecutionStatus.TIMED_OUT,
    "m": ExecutionStatus.MISSED,
}


def write_history(store: StateStore) -> None:
    """``HISTORY`` in the store, ending a period before the frozen instant, as earlier
    fires left it: the strips and charts have runs to show."""
    for job_id, (letters, took, period) in HISTORY.items():
        for index, (letter, seconds) in enumerate(zip(letters, took, strict=True)):
            due = FROZEN - timedelta(seconds=period * (len(letters) - index))
            status = _LETTER[letter]
            started = None
            if status is not ExecutionStatus.MISSED:
                started = due + timedelta(milliseconds=4 + 3 * (index % 4))
            store.record_execution(
                Execution(
                    id=store.next_execution_id(),
                    job_id=job_id,
                    status=status,
                    scheduled_time=due,
                    started_at=started,
                    ended_at=started + timedelta(seconds=seconds) if started else None,
                    error=_ERROR.get(letter),
                )
            )


def make_service(
    tmp_path: Path, history: bool = True, store: StateStore | None = None, **settings: Any
) -> SchedulerService:
    """The fixed job set, on a service whose clock is frozen, with ``HISTORY`` kept
    (unless not to: a form's picture needs none)."""
    values: dict[str, Any] = {"timezone": "UTC", "state_path": tmp_path / "state.sqlite3"}
    values.update(settings)
    store = store or MemoryStore()
    if history:
        write_history(store)
    service = SchedulerService(Settings(**values), store=store, clock=frozen)
    service.register_job("cleanup_expired_tokens", "tests.jobfuncs:quick", "0 0 * * *")
    service.register_job("heartbeat", "tests.jobfuncs:quick", "* * * * *")
    service.register_job("partner_sync", "tests.jobfuncs:boom", "*/3 * * * *")
    service.register_job("daily_report", "tests.jobfuncs:plain", "0 9 * * 1-5")
    service.register_job("weekday_digest", "tests.jobfuncs:quick", "30 17 * * 1-5", enabled=False)
    service.pause_job("daily_report")
    return service


async def run_and_wait(pilot: Pilot, service: SchedulerService, *job_ids: str) -> None:
    """Run jobs now (at the frozen instant) and let them finish."""
    for job_id in job_ids:
        service.run_job_now(job_id)
    for _ in range(200):
        if all(service.get_job(j).state is not JobState.RUNNING for j in job_ids):
            break
        await asyncio.sleep(0.01)
    await pilot.pause()


def show_next_runs(pilot: Pilot, service: SchedulerService) -> None:
    """Give the table the next run times a started scheduler would report.

    The scheduler is not started here (it would fire on the real clock), so the table
    is told, through its public ``upsert``, what the frozen clock says comes next.
    """
    table = pilot.app.query_one(JobTable)
    for job in service.get_jobs():
        if job.state is JobState.SCHEDULED:
            [when] = service.next_fire_times(job.job_id, 1)
            table.upsert(replace(job, next_run_time=when))


def main_screen(tmp_path: Path, theme: str | None = None):  # type: ignore[no-untyped-def]
    service = make_service(tmp_path)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)

    async def run_before(pilot: Pilot) -> None:
        if theme is not None:
            pilot.app.theme = theme
        await run_and_wait(pilot, service, "heartbeat", "partner_sync")
        show_next_runs(pilot, service)
        pilot.app.query_one(JobTable).select("heartbeat")
        await strips_drawn(pilot)

    return app, run_before


async def strips_drawn(pilot: Pilot) -> None:
    """Wait until the table holds the runs of its rows (asked for once they are drawn)."""
    table = pilot.app.query_one(JobTable)
    for _ in range(200):
        if all(table.runs.get(job_id) is not None for job_id in table.visible_job_ids()):
            break
        await pilot.pause(0.01)
    await pilot.pause()


def test_main_screen(snap_compare, tmp_path: Path) -> None:
    app, run_before = main_screen(tmp_path)
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


def test_main_screen_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = main_screen(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


def test_main_screen_at_80x24(snap_compare, tmp_path: Path) -> None:
    app, run_before = main_screen(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_main_screen_at_80x24_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = main_screen(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_main_screen_at_200x50(snap_compare, tmp_path: Path) -> None:
    """Every column, the sparkline of durations too."""
    app, run_before = main_screen(tmp_path)
    assert snap_compare(app, terminal_size=(200, 50), run_before=run_before)


def test_main_screen_at_200x50_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = main_screen(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(200, 50), run_before=run_before)


def test_main_screen_with_scheduling_off(snap_compare, tmp_path: Path) -> None:
    service = make_service(tmp_path, background_jobs_enabled=False)
    app = JobConsoleApp(LocalClient(service), clock=frozen)
    assert snap_compare(app, terminal_size=(120, 35))


def test_register_form_with_an_error(snap_compare, tmp_path: Path) -> None:
    service = make_service(tmp_path, history=False)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)
    keys = ["n", *"nightly_report", "tab", *"tests.jobfuncs:quick", "tab", *"61 9 * * *"]
    assert snap_compare(app, terminal_size=(120, 35), press=keys)


def test_register_form_preview(snap_compare, tmp_path: Path) -> None:
    service = make_service(tmp_path, history=False)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)
    keys = ["n", *"nightly_report", "tab", *"tests.jobfuncs:quick", "tab", *"0 9 * * 1-5"]
    assert snap_compare(app, terminal_size=(80, 24), press=keys)


def test_register_form_with_its_options_at_80x24(snap_compare, tmp_path: Path) -> None:
    """Every field filled: the preview's times are in the zone typed (Tokyo)."""
    service = make_service(tmp_path)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)
    keys = ["n", *"nightly_report", "tab", *"tests.jobfuncs:quick", "tab", *"0 9 * * 1-5"]
    keys += ["tab", *"Sales figures", "tab", *"Asia/Tokyo", "tab", *"90"]
    assert snap_compare(app, terminal_size=(80, 24), press=keys)


def test_register_form_names_every_empty_field_at_80x24(snap_compare, tmp_path: Path) -> None:
    service = make_service(tmp_path)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)
    assert snap_compare(app, terminal_size=(80, 24), press=["n", "tab", "tab", "enter"])


def test_status_line_with_a_state_file_at_80x24(snap_compare, tmp_path: Path) -> None:
    """The state file's name (its folder is the test's own): the counts stay whole."""
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=Store.open(settings), clock=frozen)
    for n in range(12):
        service.register_job(f"job_{n:02}", "tests.jobfuncs:quick", "0 0 * * *")
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)
    try:
        assert snap_compare(app, terminal_size=(80, 24))
    finally:
        service.close()


def job_detail(tmp_path: Path, theme: str | None = None):  # type: ignore[no-untyped-def]
    """The detail view of heartbeat: its chart of durations and figures, then its runs."""
    # Scheduling off, but started: output capture is on and nothing fires by itself.
    service = make_service(tmp_path, background_jobs_enabled=False)
    app = JobConsoleApp(LocalClient(service), clock=frozen)

    async def run_before(pilot: Pilot) -> None:
        if theme is not None:
            pilot.app.theme = theme
        await pilot.pause()  # the app starts the service just after its first frame
        await run_and_wait(pilot, service, "heartbeat")
        pilot.app.query_one(JobTable).select("heartbeat")

    return app, run_before


def test_job_detail(snap_compare, tmp_path: Path) -> None:
    app, run_before = job_detail(tmp_path)
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before, press=["enter"])


def test_job_detail_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = job_detail(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before, press=["enter"])


def test_main_screen_with_a_bad_registry_entry(snap_compare, tmp_path: Path) -> None:
    """A bad entry is a row in the error state, its reason in the description, and a line
    in the log (not only a notification that goes away)."""
    service = make_service(tmp_path)
    service.load_registry(
        [
            {
                "job_id": "nightly_export",
                "func": "tests.jobfuncs:quick",
                "cron_expression": "0 25 * * *",
            }
        ]
    )
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)

    async def run_before(pilot: Pilot) -> None:
        show_next_runs(pilot, service)
        pilot.app.query_one(JobTable).select("nightly_export")

    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


#: A failed run as the state file keeps it: what it printed and its trimmed traceback
#: (fixed text: a real one names the checkout's path).
FAILED_RUN_OUTPUT = "\n".join(
    [f"syncing partner batch {n} of 40" for n in range(1, 41)]
    + ["WARNING partner_sync: the partner API answered 503; giving up"]
)
FAILED_RUN_TRACEBACK = """Traceback (most recent call last):
  File "jobs/partners.py", line 18, in partner_sync
    response = client.post("/sync", json=batch)
  File "jobs/partners.py", line 31, in post
    raise RuntimeError(f"boom: the partner API said no ({status})")
RuntimeError: boom: the partner API said no (503)
"""


def output_view(tmp_path: Path, theme: str | None = None):  # type: ignore[no-untyped-def]
    store = MemoryStore()
    write_history(store)
    started = FROZEN - timedelta(seconds=15)
    store.record_execution(
        Execution(
            id=store.next_execution_id(),
            job_id="partner_sync",
            status=ExecutionStatus.FAILED,
            scheduled_time=started - timedelta(milliseconds=6),
            started_at=started,
            ended_at=started + timedelta(seconds=2.4),
            error="RuntimeError: boom: the partner API said no (503)",
            traceback=FAILED_RUN_TRACEBACK,
            output=FAILED_RUN_OUTPUT,
        )
    )
    service = make_service(tmp_path, history=False, store=store)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)

    async def run_before(pilot: Pilot) -> None:
        from tui.screens import OutputScreen

        if theme is not None:
            pilot.app.theme = theme
        pilot.app.query_one(JobTable).select("partner_sync")
        await pilot.press("o")
        for _ in range(200):
            if isinstance(pilot.app.screen, OutputScreen):
                break
            await pilot.pause(0.01)
        await pilot.pause()

    return app, run_before


def test_output_view(snap_compare, tmp_path: Path) -> None:
    """A failed run whole: the facts, all it printed, the traceback highlighted."""
    app, run_before = output_view(tmp_path)
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


def test_output_view_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = output_view(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


def timeline_view(tmp_path: Path, theme: str | None = None):  # type: ignore[no-untyped-def]
    service = make_service(tmp_path, history=False)
    app = JobConsoleApp(LocalClient(service), clock=frozen, autostart=False)

    async def run_before(pilot: Pilot) -> None:
        from tui.screens import TimelineScreen

        if theme is not None:
            pilot.app.theme = theme
        await pilot.press("w")
        for _ in range(300):
            screen = pilot.app.screen
            if isinstance(screen, TimelineScreen) and screen.timeline is not None:
                break
            await pilot.pause(0.01)
        await pilot.pause()

    return app, run_before


def test_timeline(snap_compare, tmp_path: Path) -> None:
    """The next 24 hours of every job's fires on one axis, the sum on top."""
    app, run_before = timeline_view(tmp_path)
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)


def test_timeline_light_theme(snap_compare, tmp_path: Path) -> None:
    app, run_before = timeline_view(tmp_path, theme="textual-light")
    assert snap_compare(app, terminal_size=(120, 35), run_before=run_before)
