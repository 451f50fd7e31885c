"""The keys a k9s or lazygit user reaches for, and what must not live only in a toast:
the sort menu, enable/disable, bad registry entries as rows, alerts on failures.

The real app through Pilot over a real SchedulerService; what is checked is what a user
sees: the table's order and header, the rows' states, the toasts, the log's lines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.geometry import Region

import tui.app
from jobs.core.client import LocalClient
from jobs.core.records import (
    EventKind,
    Execution,
    ExecutionStatus,
    JobState,
    SchedulerEvent,
)
from jobs.core.service import SchedulerService
from tests.test_app import SIZE, YEARLY, toasts, type_text, wait_until
from tui.alerts import AlertKind, alerts_of
from tui.app import JobConsoleApp
from tui.job_model import SORTABLE
from tui.screens import HelpScreen, JobDetailScreen, SortScreen
from tui.screens.sort import SORT_KEYS
from tui.widgets import ExecutionLog, JobTable
from tui.widgets.job_table import COLUMN_KEYS, COLUMNS

QUICK = "tests.jobfuncs:quick"
BOOM = "tests.jobfuncs:boom"


def header(table: JobTable) -> str:
    """The table's header line as drawn."""
    width = table.scrollable_content_region.width
    return table.render_lines(Region(0, 0, width, 1))[0].text


# ------------------------------------------------------------------ the sort menu


async def test_the_sort_menu_has_a_key_per_column_and_the_same_key_reverses(
    service: SchedulerService,
) -> None:
    service.register_job("a_daily", QUICK, "0 0 * * *")
    service.register_job("b_yearly", QUICK, YEARLY)
    service.register_job("c_minutely", QUICK, "* * * * *")
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("s")
        assert isinstance(app.screen, SortScreen)
        assert app.screen.query_one("#dialog").size.width < 50  # a menu, not a page
        await pilot.press("n")
        assert not isinstance(app.screen, SortScreen)
        assert (table.sort_column, table.sort_reverse) == ("next", False)
        assert table.job_ids() == ["c_minutely", "a_daily", "b_yearly"]
        await pilot.press("s", "n")  # the same column again: latest first
        assert table.job_ids() == ["b_yearly", "a_daily", "c_minutely"]
        await pilot.press("s", "r")  # a count: largest first
        assert (table.sort_column, table.sort_reverse) == ("runs", True)
        await pilot.press("s", "escape")
        assert (table.sort_column, table.sort_reverse) == ("runs", True)
        await pilot.press("s", "up", "enter")  # arrows and enter: the column before runs
        assert table.sort_column == SORTABLE[SORTABLE.index("runs") - 1]
        # Every column has a key of its own, the help lists them, and so does the palette.
        assert sorted(SORT_KEYS) == sorted(SORTABLE)  # the pictures are not sortable
        assert len(set(SORT_KEYS.values())) == len(SORTABLE)
        await pilot.press("question_mark")
        help_text = str(app.screen.query_one("#help-keys").render())
        assert isinstance(app.screen, HelpScreen)
        assert "In the sort menu (s)" in help_text and "next run" in help_text
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Sort by fails")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.sort_column == "fails")
        assert table.sort_reverse, "counts sort largest first"


@pytest.mark.parametrize("size", [(63, 24), (80, 24), (120, 35), (200, 50)])
async def test_the_sort_marker_is_never_cut_and_the_sorted_column_stays_in_view(
    service: SchedulerService, size: tuple[int, int]
) -> None:
    service.register_job("a_job_with_a_rather_long_identifier_for_its_row", QUICK, YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=size) as pilot:
        table = app.query_one(JobTable)
        for column in (c for c in COLUMNS if c.key in SORTABLE):
            for reverse in (False, True):
                table.sort_by(column.key, reverse)
                await pilot.pause()
                marker = "▼" if reverse else "▲"
                text = header(table)
                shown = table._widths[COLUMN_KEYS.index(column.key)] > 0
                assert shown or size[0] < 80, f"{column.key} sorted but left out at {size}"
                assert text.count(marker) == shown, (column.key, text)
                if not shown:
                    continue  # 63 columns: only the five that always stay fit
                index = COLUMN_KEYS.index(column.key)
                start = table._offsets[index]
                cell = text[start : start + table._widths[index]].strip()
                assert cell.endswith(f" {marker}"), (column.key, text)
                assert column.label.startswith(cell[:-2].rstrip("…")), (column.key, cell)


# ----------------------------------------------------------- enable and disable


async def test_E_disables_and_enables_and_p_on_a_disabled_job_says_what_to_do(
    service: SchedulerService,
) -> None:
    service.register_job("alpha", QUICK, YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await wait_until(pilot, lambda: service.is_running)
        await pilot.press("E")
        await wait_until(pilot, lambda: table.get_job("alpha").state is JobState.DISABLED)
        assert service.get_job("alpha").next_run_time is None
        assert any("Disabled alpha" in text for text in await toasts(pilot))
        await pilot.press("p")
        said = await toasts(pilot)
        assert any("alpha is disabled" in t and "E enables it" in t for t in said), said
        assert not any("Paused alpha" in text for text in said)
        assert service.get_job("alpha").state is JobState.DISABLED
        await pilot.press("E")
        await wait_until(pilot, lambda: table.get_job("alpha").state is JobState.SCHEDULED)
        assert any("Enabled alpha; next run" in text for text in await toasts(pilot))
        lines = [" ".join(line.split()[1:]) for line in log.lines if " alpha " in line]
        assert lines == ["alpha disabled", "alpha enabled"]


async def test_E_in_the_detail_view_disables_the_job_shown_and_stays_there(
    service: SchedulerService,
) -> None:
    service.register_job("alpha", QUICK, YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: service.is_running)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot.press("E")
        await wait_until(pilot, lambda: service.get_job("alpha").state is JobState.DISABLED)
        assert isinstance(app.screen, JobDetailScreen)


# ------------------------------------------------------- bad entries as error rows


def bad_registry(service: SchedulerService) -> None:
    service.load_registry(
        [
            {"job_id": "good", "func": QUICK, "cron_expression": YEARLY},
            {"job_id": "badcron", "func": QUICK, "cron_expression": "61 * * * *"},
            {"job_id": "good", "func": QUICK, "cron_expression": YEARLY},
        ]
    )


async def test_a_bad_registry_entry_is_a_row_in_the_error_state_that_says_why(
    service: SchedulerService,
) -> None:
    bad_registry(service)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await wait_until(pilot, lambda: service.is_running)
        assert table.job_ids() == ["badcron", "good", "registry entry 3"]
        row = table.get_job("badcron")
        assert row is not None and row.state is JobState.ERROR
        assert "minute field: 61 is out of range 0-59" in row.description
        duplicate = table.get_job("registry entry 3")
        assert duplicate is not None and "already registered" in duplicate.description
        log = app.query_one(ExecutionLog)
        assert any("badcron" in line and "not loaded" in line for line in log.lines)
        table.select("badcron")
        for key in ("t", "p", "E", "e", "d", "o"):
            await pilot.press(key)
            said = await toasts(pilot)
            assert any("cannot run or change" in text for text in said), (key, said)
            assert not isinstance(app.screen, JobDetailScreen)
        assert service.recent_executions() == []
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        assert "not loaded: invalid cron expression '61 * * * *'" in detail.text
        await pilot.press("escape")
        # A job registered with that id later takes the row over.
        service.register_job("badcron", QUICK, YEARLY)
        await wait_until(pilot, lambda: table.get_job("badcron").state is JobState.SCHEDULED)
        await pilot.press("p")
        await wait_until(pilot, lambda: service.get_job("badcron").state is JobState.PAUSED)


# ------------------------------------------------------------------------ alerts


class Counting(JobConsoleApp):
    """The console with its terminal bell counted (the terminal is outside the project)."""

    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))
    bells = 0

    def bell(self) -> None:
        self.bells += 1
        super().bell()


async def test_a_failure_rings_and_notifies_only_with_alerts_on_and_a_recovery_too(
    service: SchedulerService,
) -> None:
    service.register_job("partner", BOOM, YEARLY)
    app = Counting(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await wait_until(pilot, lambda: service.is_running)
        assert not app.alerts, "off by default"
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("partner").failure_count == 1)
        await pilot.pause()
        assert app.bells == 0
        assert not any("partner failed" in text for text in await toasts(pilot))

        await pilot.press("a")
        assert app.alerts
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("partner").failure_count == 2)
        await wait_until(pilot, lambda: app.bells == 1)
        said = await toasts(pilot)
        assert any("partner failed: RuntimeError: boom" in text for text in said), said

        service.register_job("partner", QUICK, YEARLY, replace_existing=True)
        await pilot.press("t")
        await wait_until(pilot, lambda: app.bells == 2)
        said = await toasts(pilot)
        assert any("partner succeeded again; its previous run: failed" in t for t in said)

        await pilot.press("a")  # off again: a failure rings nothing
        service.register_job("partner", BOOM, YEARLY, replace_existing=True)
        await pilot.press("t")
        await wait_until(pilot, lambda: sum("failed" in line for line in log.lines) == 3)
        await pilot.pause()
        assert app.bells == 2


def _run(job_id: str, status: ExecutionStatus, at: int, error: str = "") -> SchedulerEvent:
    when = datetime(2026, 3, 4, 9, 0, at, tzinfo=UTC)
    execution = Execution(at, job_id, status, when, when, when, error=error or None)
    return SchedulerEvent(EventKind(str(status)), when, job_id, execution=execution)


def test_alerts_are_failures_recoveries_and_missed_runs_in_order() -> None:
    events = [
        _run("a", ExecutionStatus.SUCCEEDED, 1),  # was failing before the batch: recovered
        _run("a", ExecutionStatus.TIMED_OUT, 2),
        _run("a", ExecutionStatus.SUCCEEDED, 3),
        _run("b", ExecutionStatus.MISSED, 4, "missed 3 run(s) due while jobconsole was stalled"),
        _run("b", ExecutionStatus.SUCCEEDED, 5),  # a success after a missed run: no news
        _run("c", ExecutionStatus.SKIPPED, 6),
    ]
    before = {"a": ExecutionStatus.FAILED, "b": ExecutionStatus.SUCCEEDED}
    found = alerts_of(events, before.get)
    assert [(alert.kind, alert.job_id) for alert in found] == [
        (AlertKind.RECOVERED, "a"),
        (AlertKind.FAILED, "a"),
        (AlertKind.RECOVERED, "a"),
        (AlertKind.MISSED, "b"),
    ]
    assert found[3].text == "b missed a run: missed 3 run(s) due while jobconsole was stalled"
