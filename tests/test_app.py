"""The console through Pilot, against a real SchedulerService (never a mock).

Each test drives the app with keys (or the mouse) and checks what a user would notice:
the rows, the selected job, the log lines, the notifications, the forms' messages.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._toast import Toast

from jobs.core.client import LocalClient
from jobs.core.records import EventKind, ExecutionStatus, JobSnapshot, JobState, SchedulerEvent
from jobs.core.scheduling import SCHEDULE_CHUNK
from jobs.core.service import SchedulerService
from tests.records import snapshot
from tui.app import JobConsoleApp
from tui.job_model import SORTABLE
from tui.screens import (
    ConfirmScreen,
    EditScheduleScreen,
    HelpScreen,
    JobDetailScreen,
    RegisterScreen,
)
from tui.widgets import ExecutionLog, JobTable, StatusBar
from tui.widgets.job_table import COLUMN_KEYS

SIZE = (120, 35)
YEARLY = "0 0 1 1 *"  # never fires while a test runs


# ---------------------------------------------------------------------------- helpers


async def toasts(pilot: Pilot) -> list[str]:
    """The text of every notification on screen (once the app has drawn them)."""
    await pilot.pause()
    await pilot.pause()
    app = pilot.app
    return [str(toast.render()) for screen in app.screen_stack for toast in screen.query(Toast)]


def status_text(app: JobConsoleApp) -> str:
    return str(app.query_one(StatusBar).render())


async def wait_until(pilot: Pilot, condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds (jobs run on the app's own loop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.02)


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


def add_jobs(service: SchedulerService, *ids: str, func: str = "tests.jobfuncs:quick") -> None:
    for job_id in ids:
        service.register_job(job_id, func, YEARLY)


async def fill_register_form(pilot: Pilot, job_id: str, func: str, expression: str) -> None:
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, RegisterScreen)
    await type_text(pilot, job_id)
    await pilot.press("tab")
    await type_text(pilot, func)
    await pilot.press("tab")
    await type_text(pilot, expression)


# ----------------------------------------------------------------------- registering


async def test_register_through_the_form_selects_the_new_row(service: SchedulerService) -> None:
    add_jobs(service, "alpha", "omega")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "middle", "tests.jobfuncs:quick", "*/5 * * * *")
        preview = str(app.screen.query_one("#cron-error", Static).render())
        assert "Every 5 minutes" in preview
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, RegisterScreen)
        assert service.get_job("middle").cron_expression == "*/5 * * * *"
        table = app.query_one(JobTable)
        assert table.job_ids() == ["alpha", "middle", "omega"]
        assert table.selected_job_id == "middle"
        assert any("Registered middle" in text for text in await toasts(pilot))


async def test_a_bad_expression_shows_the_exact_error_and_registers_nothing(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "bad", "tests.jobfuncs:quick", "61 * * * *")
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert form.field_error("cron") == "minute field: 61 is out of range 0-59"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "the form stays open"
        assert form.field_error("cron") == "minute field: 61 is out of range 0-59"
        assert not service.has_job("bad")
        assert app.query_one(JobTable).job_count == 0


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("٣ * * * *", "minute field: '٣' is not a number; expected ASCII digits 0-59"),
        ("0 0 * ² *", "month field: '²' is not a number; expected ASCII digits 1-12 or a name"),
        ("0 0 \uff11 * *", "day-of-month field: '\uff11' is not a number; expected ASCII"),
        ("9" * 30 + " * * * *", "minute field: 999999999999… (30 digits) is out of range 0-59"),
    ],
    ids=["arabic-indic", "superscript", "fullwidth", "long"],
)
async def test_the_form_refuses_digits_cron_does_not_read(
    service: SchedulerService, expression: str, reason: str
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "bad", "tests.jobfuncs:quick", expression)
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert form.field_error("cron").startswith(reason)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "the form stays open"
        assert form.field_error("cron").startswith(reason)
        assert not service.has_job("bad")


async def test_a_duplicate_id_is_refused_as_it_is_typed_and_on_submit(
    service: SchedulerService,
) -> None:
    service.register_job("alpha", "tests.jobfuncs:plain", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "alpha", "tests.jobfuncs:quick", "* * * * *")
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert "already registered" in form.field_error("job_id")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert "'alpha' is already registered" in form.field_error("job_id")
        assert service.get_job("alpha").func_ref == "tests.jobfuncs:plain"
        assert service.get_job("alpha").cron_expression == YEARLY


async def test_an_unknown_function_is_refused_under_its_field(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "ghost", "tests.jobfuncs:nope", "* * * * *")
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert "has no attribute 'nope'" in form.field_error("func")
        assert form.field_error("job_id") == ""
        assert form.focused is form.query_one("#func")
        assert not service.has_job("ghost")


async def test_a_function_that_needs_arguments_is_refused(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "args", "tests.jobfuncs:needs_argument", "@daily")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RegisterScreen)
        assert "needs arguments" in app.screen.field_error("func")
        assert not service.has_job("args")


async def test_escape_cancels_the_form(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "never", "tests.jobfuncs:quick", "@daily")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RegisterScreen)
        assert not service.has_job("never")


async def test_the_function_field_suggests_job_functions_of_the_registry_package(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("tab")
        await type_text(pilot, "jobs.cle")
        await pilot.pause()
        await pilot.press("right")  # accepts the suggestion, as in a shell
        func = app.screen.query_one("#func")
        assert func.value == "jobs.cleanup:cleanup_expired_tokens"


# ----------------------------------------------------------------- acting on a job


async def test_pause_and_resume_change_the_row_and_say_so(service: SchedulerService) -> None:
    add_jobs(service, "alpha", "beta")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("j")
        assert table.selected_job_id == "beta"
        assert table.get_job("beta").next_run_time is not None
        await pilot.press("p")
        await pilot.pause()
        assert table.get_job("beta").state is JobState.PAUSED
        assert table.get_job("beta").next_run_time is None
        assert service.get_job("beta").state is JobState.PAUSED
        assert any("Paused beta" in text for text in await toasts(pilot))
        assert "1 paused" in status_text(app)
        await pilot.press("p")
        await pilot.pause()
        assert any("beta is already paused" in text for text in await toasts(pilot))
        await pilot.press("r")
        await pilot.pause()
        assert table.get_job("beta").state is JobState.SCHEDULED
        assert table.get_job("beta").next_run_time is not None
        assert any("Resumed beta" in text for text in await toasts(pilot))
        assert table.get_job("alpha").state is JobState.SCHEDULED


async def test_run_now_shows_in_the_log_and_in_the_detail_view(service: SchedulerService) -> None:
    add_jobs(service, "quick")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("quick").run_count == 1)
        assert any("Started quick" in text for text in await toasts(pilot))
        lines = [line for line in log.lines if "quick" in line]
        assert "started" in lines[-2] and "run now" in lines[-2]
        assert "succeeded" in lines[-1]
        assert table.get_job("quick").last_status is ExecutionStatus.SUCCEEDED
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        assert "succeeded" in detail.text
        assert "quick ran" in detail.text  # the captured output
        assert "tests.jobfuncs:quick" in detail.text
        assert "Next 10 fire times" in detail.text
        assert detail.text.count("-01-01 00:00:00 UTC") == 10
        # Run it again from the detail view: the new execution appears there too.
        await pilot.press("t")
        await wait_until(pilot, lambda: detail.text.count("quick ran") == 2)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, JobDetailScreen)


async def test_a_failure_is_red_in_the_log_with_its_message_and_traceback_in_detail(
    service: SchedulerService,
) -> None:
    service.register_job("boom", "tests.jobfuncs:boom", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("boom").failure_count == 1)
        log = app.query_one(ExecutionLog)
        assert "failed" in log.lines[-1]
        assert "RuntimeError: boom: the partner API said no" in log.lines[-1]
        assert "1 failed (1h)" in status_text(app)
        await pilot.press("enter")
        await pilot.pause()
        text = app.screen.text
        assert "Traceback (most recent call last)" in text
        assert 'raise RuntimeError("boom: the partner API said no")' in text


async def test_edit_changes_the_expression_with_live_validation(service: SchedulerService) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditScheduleScreen)
        await type_text(pilot, "0 12 * * 8")  # replaces the selected old expression
        assert "day-of-week field: 8 is out of range 0-7" in form.error
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert service.get_job("alpha").cron_expression == YEARLY
        await pilot.press("backspace", "1")
        assert form.error == ""
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, EditScheduleScreen)
        assert service.get_job("alpha").cron_expression == "0 12 * * 1"
        assert app.query_one(JobTable).get_job("alpha").cron_expression == "0 12 * * 1"
        assert any("Rescheduled alpha to 0 12 * * 1" in text for text in await toasts(pilot))


async def test_remove_asks_first_and_only_y_removes(service: SchedulerService) -> None:
    add_jobs(service, "alpha", "beta")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        for decline in ("n", "escape"):
            await pilot.press("d")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(decline)
            await pilot.pause()
            assert service.has_job("alpha") and table.job_ids() == ["alpha", "beta"]
        assert any("Kept alpha" in text for text in await toasts(pilot))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not service.has_job("alpha")
        assert table.job_ids() == ["beta"]
        assert table.selected_job_id == "beta", "the cursor moves to the next row"
        assert any("Removed alpha" in text for text in await toasts(pilot))


async def test_actions_without_a_job_say_why(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert any("No job selected" in text for text in await toasts(pilot))
        assert "No jobs yet: press n" in str(app.query_one(JobTable).render_line(1).text)


# -------------------------------------------------------------- table behaviour


async def test_j_k_and_arrows_move_the_selection(service: SchedulerService) -> None:
    add_jobs(service, "a", "b", "c")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        assert table.selected_job_id == "a"
        await pilot.press("j", "down")
        assert table.selected_job_id == "c"
        await pilot.press("down")
        assert table.selected_job_id == "c"
        await pilot.press("k")
        assert table.selected_job_id == "b"
        await pilot.press("up", "up")
        assert table.selected_job_id == "a"


async def test_filter_narrows_the_rows_and_escape_clears_it(service: SchedulerService) -> None:
    add_jobs(service, "cleanup", "report", "reindex")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("slash")
        await type_text(pilot, "re")
        assert table.job_ids() == ["reindex", "report"]
        assert table.selected_job_id == "reindex"
        assert "2/3 jobs" in status_text(app)
        await type_text(pilot, "p")
        assert table.job_ids() == ["report"]
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is table
        await pilot.press("p")  # a key for the table again, not the filter
        await pilot.pause()
        assert service.get_job("report").state is JobState.PAUSED
        await pilot.press("slash", "escape")
        assert table.job_ids() == ["cleanup", "reindex", "report"]
        assert table.selected_job_id == "report"


async def test_sort_by_key_and_by_header_click_keeps_the_cursor_on_its_job(
    service: SchedulerService,
) -> None:
    service.register_job("a_daily", "tests.jobfuncs:quick", "0 0 * * *")
    service.register_job("b_yearly", "tests.jobfuncs:quick", YEARLY)
    service.register_job("c_minutely", "tests.jobfuncs:quick", "* * * * *")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("j")
        assert table.selected_job_id == "b_yearly"
        await pilot.press("s", "c")  # the sort menu, then the cron column's key
        assert table.sort_column == "cron"
        assert table.job_ids() == ["c_minutely", "a_daily", "b_yearly"]  # "*" sorts before "0"
        # Click the "next run" header: soonest first; again: latest first.
        next_x = 1 + sum(w + 1 for w in table._widths[: COLUMN_KEYS.index("next")]) + 2
        await pilot.click(JobTable, offset=(next_x, 0))
        assert table.sort_column == "next"
        assert table.job_ids() == ["c_minutely", "a_daily", "b_yearly"]
        assert table.selected_job_id == "b_yearly"
        await pilot.click(JobTable, offset=(next_x, 0))
        assert table.job_ids() == ["b_yearly", "a_daily", "c_minutely"]
        await pilot.press("S")
        assert table.job_ids() == ["c_minutely", "a_daily", "b_yearly"]
        assert table.selected_job_id == "b_yearly"


async def test_clicking_rows_selects_and_clicking_the_selected_row_opens_details(
    service: SchedulerService,
) -> None:
    add_jobs(service, "a", "b", "c")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.click(JobTable, offset=(5, 3))  # line 0 is the header
        assert table.selected_job_id == "c"
        await pilot.click(JobTable, offset=(5, 3))
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen) and app.screen.job_id == "c"


async def test_the_log_toggles_between_all_jobs_and_the_selected_job(
    service: SchedulerService,
) -> None:
    add_jobs(service, "a", "b")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        service.run_job_now("a")
        service.run_job_now("b")
        await wait_until(pilot, lambda: table.get_job("b").run_count == 1)
        await wait_until(pilot, lambda: table.get_job("a").run_count == 1)
        assert any(" a " in line for line in log.lines)
        assert any(" b " in line for line in log.lines)
        await pilot.press("l")
        assert log.scope == "a" and log.border_title == "Log: a"
        assert log.lines and all(" a " in line for line in log.lines)
        await pilot.press("j")  # the scoped log follows the selection
        assert log.scope == "b"
        assert log.lines and all(" b " in line for line in log.lines)
        await pilot.press("l")
        assert log.scope is None and log.border_title == "Log: all jobs"
        assert any("scheduler running" in line for line in log.lines)


async def test_the_log_loads_recent_history_at_start_up(service: SchedulerService) -> None:
    add_jobs(service, "early")

    async def run_before_the_app() -> None:
        service.start()
        service.run_job_now("early")
        for _ in range(50):
            if service.get_job("early").run_count:
                return
            await asyncio.sleep(0.01)

    await run_before_the_app()
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True):
        lines = app.query_one(ExecutionLog).lines
        assert any("early" in line and "succeeded" in line for line in lines)


async def test_a_start_with_many_jobs_is_one_update_and_every_row_gets_its_next_run(
    service: SchedulerService,
) -> None:
    count = 3 * SCHEDULE_CHUNK + 7  # most are handed to APScheduler after the first frame
    add_jobs(service, *(f"job{n:04d}" for n in range(count)))
    heard: list[SchedulerEvent] = []
    service.subscribe(heard.append)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await wait_until(pilot, lambda: "● running" in status_text(app), timeout=20)
        await pilot.pause()
        jobs = [table.get_job(job_id) for job_id in table.job_ids()]
        assert len(jobs) == count
        assert all(job is not None and job.next_run_time is not None for job in jobs)
        assert [event.kind for event in heard] == [EventKind.SCHEDULER_STARTED]
        started = [line for line in app.query_one(ExecutionLog).lines if "job" in line]
        assert started == [], "no log line per job"


async def test_what_the_start_merges_from_the_state_file_is_shown_once_running(durable) -> None:
    """A service whose state file is merged by ``start()`` itself (not loaded before):
    the table read before the start is read again whole, so a pause kept there shows."""
    first = durable()
    first.load_registry(
        [{"job_id": j, "func": "tests.jobfuncs:quick", "cron_expression": YEARLY} for j in "abc"]
    )
    first.pause_job("b")
    first.close()
    again = durable()
    again.load_registry(
        [{"job_id": j, "func": "tests.jobfuncs:quick", "cron_expression": YEARLY} for j in "abc"]
    )
    app = JobConsoleApp(LocalClient(again))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await wait_until(pilot, lambda: "● running" in status_text(app), timeout=20)
        await pilot.pause()
        assert table.get_job("b").state is JobState.PAUSED
        assert table.get_job("b").next_run_time is None
        assert table.get_job("a").next_run_time is not None
        assert "1 paused" in status_text(app)


async def test_the_cursor_stays_on_its_job_as_jobs_change(service: SchedulerService) -> None:
    add_jobs(service, "b", "d")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("j")
        assert table.selected_job_id == "d"
        add_jobs(service, "a", "c")  # rows appear above and around it
        await pilot.pause()
        assert table.job_ids() == ["a", "b", "c", "d"]
        assert table.selected_job_id == "d"
        service.pause_job("d")
        service.remove_job("a")
        await pilot.pause()
        assert table.selected_job_id == "d"


async def test_table_order_stays_right_under_random_updates(service: SchedulerService) -> None:
    """The bisect bookkeeping against a plain sort, for every column, filter and direction."""
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True):
        table = app.query_one(JobTable)
        rng = random.Random(7)
        base = datetime(2026, 11, 29, tzinfo=UTC)
        jobs: dict[str, JobSnapshot] = {}
        template = snapshot("x", description="Every minute")

        def random_job(job_id: str) -> JobSnapshot:
            return replace(
                template,
                job_id=job_id,
                state=rng.choice(list(JobState)),
                next_run_time=rng.choice([None, base + timedelta(seconds=rng.randrange(50))]),
                run_count=rng.randrange(5),
                options=replace(
                    template.options, description=rng.choice(["nightly", "hourly", "weekly"])
                ),
            )

        for step in range(400):
            job_id = f"job{rng.randrange(60):02d}"
            if rng.random() < 0.15 and job_id in jobs:
                del jobs[job_id]
                table.remove(job_id)
            else:
                jobs[job_id] = random_job(job_id)
                table.upsert(jobs[job_id])
            if step % 50 == 0:
                table.sort_by(rng.choice(["id", "next", "runs", "state"]), rng.random() < 0.5)
                table.filter_text = rng.choice(["", "ly", "night", "job1"])
            column = table.sort_column

            def key(job: JobSnapshot, column: str = column) -> tuple:
                value = {
                    "id": job.job_id,
                    "next": job.next_run_time,
                    "runs": job.run_count,
                    "state": str(job.state),
                }[column]
                return (value is None, value if value is not None else 0, job.job_id)

            needle = table.filter_text
            fields = ("job_id", "func_ref", "cron_expression", "description", "state")
            shown = [j for j in jobs.values() if any(needle in getattr(j, f) for f in fields)]
            # Descending is ascending read backwards (so jobs without a value come first).
            expected = [j.job_id for j in sorted(shown, key=key)]
            if table.sort_reverse:
                expected.reverse()
            assert table.job_ids() == expected, (step, column, needle)
            assert table.job_count == len(jobs)
            counts = table.state_counts()
            for state in JobState:
                assert counts[state] == sum(1 for j in jobs.values() if j.state is state)


async def test_countdowns_come_from_the_clock_and_tick(service: SchedulerService) -> None:
    now = [datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)]
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service), clock=lambda: now[0], autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        job = table.get_job("alpha")
        table.upsert(replace(job, next_run_time=now[0] + timedelta(minutes=4, seconds=12)))
        await pilot.pause()

        def first_row() -> str:
            table.refresh()  # as the app's one-second tick does
            return table.render_lines(table.region.reset_offset)[1].text

        assert "09:04:12 in 4m 12s" in first_row()
        now[0] += timedelta(seconds=2)  # each draw reads the clock once
        assert "09:04:12 in 4m 10s" in first_row()
        now[0] += timedelta(days=1)
        table.upsert(replace(job, next_run_time=now[0] + timedelta(days=2, hours=5)))
        assert "12-03 14:00 in 2d 5h" in first_row()


async def test_the_log_is_bounded(service: SchedulerService) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE):
        log = app.query_one(ExecutionLog)
        template = service.run_job_now("alpha")
        for index in range(1500):
            log.add(replace(template, id=10_000 + index))
        assert len(log.lines) == 1000
        assert log.max_scroll_y == 1000 - log.scrollable_content_region.height


# ------------------------------------------------------------- keys and help


async def test_help_lists_every_key_from_the_bindings(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-keys", Static).render())
        for binding in [*JobConsoleApp.BINDINGS, *JobTable.BINDINGS]:
            assert binding.description in text
            assert binding.tooltip in text
            # Read as words: "Enable/disableEnable the selected job" ran the two together.
            assert binding.description + binding.tooltip[:1] not in text, binding.description
        assert "↑ k" in text and "↓ j" in text
        legend = str(app.screen.query_one("#help-legend", Static).render())
        assert "✓  succeeded" in legend and "◷  timed out" in legend and "○  missed" in legend
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_every_key_has_a_description_and_is_in_the_command_palette(
    service: SchedulerService,
) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for binding in [*JobConsoleApp.BINDINGS, *JobTable.BINDINGS]:
            assert binding.description and binding.tooltip
        actions = {action for _, _, action in app.palette_commands()}
        sorts = {f"sort_by('{key}')" for key in SORTABLE}  # "Sort by next run", ...
        assert actions == {binding.action for binding in JobConsoleApp.BINDINGS} | sorts
        # Through the palette itself: find "Pause" by name and run it.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Pause the selected")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: service.get_job("alpha").state is JobState.PAUSED)


# ---------------------------------------------------------- start, stop, modes


async def test_quitting_shuts_the_scheduler_down_and_records_a_running_job_cancelled(
    service_factory: Callable[..., SchedulerService],
) -> None:
    service = service_factory(shutdown_timeout_seconds=0.1)
    service.register_job("slow", "tests.jobfuncs:slow", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: service.is_running)  # just after the first frame
        assert "● running" in status_text(app)
        await pilot.press("t")
        await wait_until(pilot, lambda: service.get_job("slow").state is JobState.RUNNING)
        assert "1 running" in status_text(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=5)
    assert not service.is_running
    [execution] = service.recent_executions("slow")
    assert execution.status is ExecutionStatus.CANCELLED


async def test_a_second_q_stops_waiting_for_running_jobs(
    service_factory: Callable[..., SchedulerService],
) -> None:
    service = service_factory(shutdown_timeout_seconds=30)
    service.register_job("slow", "tests.jobfuncs:slow", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("t")
        await wait_until(pilot, lambda: service.get_job("slow").state is JobState.RUNNING)
        await pilot.press("q")
        await pilot.pause()
        assert "stopping" in status_text(app)
        assert any("press q again" in text for text in await toasts(pilot))
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=5)
    assert service.recent_executions("slow")[0].status is ExecutionStatus.CANCELLED


async def test_with_background_jobs_disabled_the_console_opens_and_says_so(
    service_factory: Callable[..., SchedulerService],
) -> None:
    service = service_factory(background_jobs_enabled=False)
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        banner = app.query_one("#banner", Static)
        assert banner.display
        text = str(banner.render())
        assert "scheduling is off" in text
        assert "set BACKGROUND_JOBS_ENABLED=true" in text
        assert "scheduling off" in status_text(app)
        assert app.query_one(JobTable).job_ids() == ["alpha"]
        assert app.query_one(JobTable).get_job("alpha").next_run_time is None
        await pilot.press("r")
        await pilot.pause()
        assert any("alpha is not paused" in text for text in await toasts(pilot))


async def test_scheduling_on_shows_no_banner(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True):
        assert not app.query_one("#banner").display


async def test_registry_entries_that_failed_to_load_are_shown_as_errors(
    service: SchedulerService,
) -> None:
    service.load_registry(
        [{"job_id": "broken", "func": "tests.jobfuncs:missing", "cron_expression": "@daily"}]
    )
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert any("broken" in text and "missing" in text for text in await toasts(pilot))


async def test_the_example_registry_loads(tmp_path) -> None:
    from jobs.core.bootstrap import build_service
    from jobs.core.settings import Settings

    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = build_service(settings, durable=False)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE, notifications=True):
        ids = app.query_one(JobTable).job_ids()
        assert "heartbeat" in ids and "cleanup_expired_tokens" in ids
        assert service.boot_errors == []


async def test_it_is_usable_at_80x24(service: SchedulerService) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        table = app.query_one(JobTable)
        header = table.render_line(0).text
        for label in ("id", "cron", "state", "next run", "recent"):
            assert label in header
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen.query_one("#dialog")
        assert dialog.region.height <= 24
        assert app.screen.query_one("#submit").region.bottom <= 24


async def test_edit_sets_a_timeout_and_refuses_a_bad_one(service: SchedulerService) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditScheduleScreen)
        await pilot.press("tab")
        await type_text(pilot, "soon")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        shown = str(form.query_one("#timeout-error").render())
        assert "timeout: 'soon' is not a number of seconds above 0" in shown
        assert service.get_job("alpha").timeout_seconds is None
        for _ in "soon":
            await pilot.press("backspace")
        await type_text(pilot, "2.5")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, EditScheduleScreen)
        assert service.get_job("alpha").timeout_seconds == 2.5
        assert service.get_job("alpha").cron_expression == YEARLY
        assert any("Timeout of alpha: 2.5s" in text for text in await toasts(pilot))


async def test_edit_refuses_a_timeout_beyond_a_year_under_its_field(
    service: SchedulerService,
) -> None:
    add_jobs(service, "alpha")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for typed in ("1e308", "31536001", "1" * 400):
            await pilot.press("e")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, EditScheduleScreen)
            await pilot.press("tab")
            await type_text(pilot, typed)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is form, typed
            shown = str(form.query_one("#timeout-error").render())
            assert "is not a number of seconds above 0 and at most 31,536,000" in shown
            assert "(365 days)" in shown
            assert len(shown) < 300
            assert form.error == ""  # the expression is fine: nothing under its field
            assert service.get_job("alpha").timeout_seconds is None
            await pilot.press("escape")
            await pilot.pause()


async def test_the_filter_matches_the_last_runs_status_as_the_status_column_shows_it(
    service: SchedulerService,
) -> None:
    service.register_job("partner_sync", "tests.jobfuncs:boom", YEARLY)
    service.register_job("stuck", "tests.jobfuncs:slow", YEARLY, timeout_seconds=0.05)
    add_jobs(service, "heartbeat")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("slash")
        await type_text(pilot, "fail")
        assert table.job_ids() == [], "nothing has run yet"
        await pilot.press("enter")  # the filter stays while the jobs run
        for job_id in ("partner_sync", "stuck", "heartbeat"):
            service.run_job_now(job_id)
        ids = ("heartbeat", "partner_sync", "stuck")
        await wait_until(pilot, lambda: all(table.get_job(i).last_status for i in ids))
        statuses = [str(table.get_job(job_id).last_status) for job_id in ids]
        assert statuses == ["succeeded", "failed", "timed out"]
        assert table.job_ids() == ["partner_sync"]
        assert "1/3 jobs" in status_text(app)
        await pilot.press("slash", "escape")
        await pilot.press("slash")
        await type_text(pilot, "timed")
        assert table.job_ids() == ["stuck"]


async def test_detail_shows_the_newest_output_in_full_and_older_ones_cut(
    service: SchedulerService,
) -> None:
    # Twenty executions of 64 KiB each took seconds to lay out; the newest is what matters.
    add_jobs(service, "chatty", func="tests.jobfuncs:chatty")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        for runs in (1, 2):
            await pilot.press("t")
            await wait_until(pilot, lambda runs=runs: table.get_job("chatty").run_count == runs)
        await pilot.press("enter")
        await pilot.pause()
        text = app.screen.text
        newest, older = text.split("#2")[1].split("#1")
        assert "line 49" in newest
        assert "x" * 400 + "… (5,000 characters)" in newest
        assert "x" * 401 not in newest
        assert "line 10" in older and "line 11" not in older
        assert "… 40 more lines" in older


@pytest.mark.parametrize(
    ("size", "hidden", "whole"),
    [
        ((200, 50), [], True),
        ((120, 35), ["took", "durations", "runs", "fails", "last run"], True),
        # The kept columns with this id and expression need 87 cells: the strip of recent
        # runs shows fewer, then the expression gives.
        (
            (80, 24),
            ["took", "durations", "runs", "fails", "last run", "description", "status"],
            False,
        ),
    ],
)
async def test_the_table_fits_the_terminal_with_ids_whole(
    service: SchedulerService, size: tuple[int, int], hidden: list[str], whole: bool
) -> None:
    service.register_job("cleanup_expired_tokens", "tests.jobfuncs:quick", YEARLY)
    service.register_job("q", "tests.jobfuncs:quick", "*/30 9-17 * * 1-5")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(JobTable)
        strips = table.render_lines(table.region.reset_offset)
        header, *rows = (strip.text for strip in strips)
        for label in ("id", "cron", "state", "next run", "recent"):
            assert label in header
        for label in hidden:
            assert label not in header, (label, header)
        assert any("cleanup_expired_tokens " in row for row in rows)  # the id whole
        expression = "*/30 9-17 * * 1-5 " if whole else "*/30 9-17 * *…"
        assert any(expression in row for row in rows), rows
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no scroll


async def test_the_palette_jumps_to_a_job_by_part_of_its_id_even_when_filtered_out(
    service: SchedulerService,
) -> None:
    add_jobs(service, "alpha", "billing_export", "zeta")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("slash")
        await type_text(pilot, "zeta")  # the filter shows zeta alone
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.job_ids() == ["zeta"])
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "export")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.selected_job_id == "billing_export")
        assert table.job_ids() == ["alpha", "billing_export", "zeta"]  # the filter cleared
        assert app.focused is table


async def test_counts_sort_largest_first_and_again_reverses(service: SchedulerService) -> None:
    add_jobs(service, "few", "many", "none")
    service.start()
    for job_id, runs in (("few", 1), ("many", 3)):
        for _ in range(runs):
            service.run_job_now(job_id)
            await asyncio.sleep(0.05)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=(200, 40)) as pilot:
        table = app.query_one(JobTable)
        await wait_until(pilot, lambda: table.get_job("many").run_count == 3)
        runs_x = 1 + sum(w + 1 for w in table._widths[: COLUMN_KEYS.index("runs")]) + 2
        await pilot.click(JobTable, offset=(runs_x, 0))
        assert (table.sort_column, table.job_ids()) == ("runs", ["many", "few", "none"])
        await pilot.click(JobTable, offset=(runs_x, 0))
        assert table.job_ids() == ["none", "few", "many"]
