"""The output view (issue 14, output first): ``o`` opens a job's latest run whole.

The real app over a real service, driven by Pilot: the whole output (not the detail
view's first 200 lines), the trimmed traceback, search with ``/``, ``n`` and ``N``, a run
that ends while its view is open, and ``$PAGER`` through a real pty.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from textual.widgets import Static, TextArea

from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from jobs.core.settings import KEYS
from tests import jobfuncs
from tests.conftest import ServiceFactory
from tests.console_pty import Console
from tests.test_app import SIZE, YEARLY, toasts, type_text, wait_until
from tui.app import JobConsoleApp
from tui.screens import JobDetailScreen, OutputScreen
from tui.widgets import ExecutionLog, JobTable


def search_status(screen: OutputScreen) -> str:
    return str(screen.query_one("#output-search-status", Static).render())


async def test_o_opens_the_latest_runs_whole_output_and_its_traceback(
    service: SchedulerService,
) -> None:
    service.register_job("loud", "tests.jobfuncs:prints_a_thousand_lines", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("loud").failure_count == 1)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        view = app.screen
        assert isinstance(view, OutputScreen)
        lines = view.text.split("\n")
        assert len(lines) == 1001
        assert lines[0] == "line 1" and lines[999] == "line 1000"
        # Shown as written: the escape made visible, the brackets not markup.
        assert lines[1000] == "\\x1b]0;pwned\\x07 [b]not markup[/b] [/]"
        title = str(view.query_one("#output-title", Static).render())
        assert "loud" in title and "failed" in title
        facts = str(view.query_one("#output-facts", Static).render())
        assert "1,001 lines of output" in facts and "run now" in facts
        assert "ValueError: after a thousand lines" in facts
        trace = view.traceback_text
        assert "prints_a_thousand_lines" in trace
        assert "runner.py" not in trace  # jobconsole's own frames are trimmed
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OutputScreen)


async def test_search_finds_every_match_and_n_and_shift_n_step_through_them(
    service: SchedulerService,
) -> None:
    service.register_job("loud", "tests.jobfuncs:prints_a_thousand_lines", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("loud").run_count == 1)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        view = app.screen
        assert isinstance(view, OutputScreen)
        area = view.query_one("#output-text", TextArea)
        await pilot.press("slash")
        await type_text(pilot, "needle")  # lower case: any case matches
        await pilot.press("enter")
        await pilot.pause()
        assert area.has_focus
        assert area.selection.start == (249, 10) and area.selected_text == "NEEDLE"
        assert "match 1 of 3" in search_status(view)
        assert area.scroll_offset.y > 200  # line 250 is in view
        await pilot.press("n")
        assert area.selection.start[0] == 499
        await pilot.press("n", "n")  # past the last, back to the first
        assert area.selection.start[0] == 249
        await pilot.press("N")
        assert area.selection.start[0] == 749
        assert "match 3 of 3" in search_status(view)
        # A capital letter makes the search exact; a miss says so.
        await pilot.press("slash")
        await pilot.press(*["backspace"] * 6)
        await type_text(pilot, "Needle")
        await pilot.press("enter")
        await pilot.pause()
        assert "no match for Needle" in search_status(view)
        # Escape in the search box closes it, not the view.
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert app.screen is view and area.has_focus


async def test_a_run_that_ends_while_its_view_is_open_is_shown_ended(
    durable: ServiceFactory,
) -> None:
    service = durable()  # a state file keeps the running run, so `o` can open it
    service.register_job("slowish", "tests.jobfuncs:prints_then_waits", YEARLY)
    jobfuncs.RELEASE.append(asyncio.Event())
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await wait_until(
            pilot, lambda: app.query_one(JobTable).get_job("slowish").state == "running"
        )
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        view = app.screen
        assert isinstance(view, OutputScreen)
        assert "running" in str(view.query_one("#output-title", Static).render())
        jobfuncs.RELEASE[-1].set()
        await wait_until(
            pilot, lambda: "succeeded" in str(view.query_one("#output-title", Static).render())
        )
        assert view.text == "before the wait\nafter the wait"


async def test_o_on_a_job_that_never_ran_says_so_and_from_the_detail_view_it_opens(
    service: SchedulerService,
) -> None:
    service.register_job("quiet", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, OutputScreen)
        assert any("quiet has not run yet" in text for text in await toasts(pilot))
        await pilot.press("t")
        table = app.query_one(JobTable)
        await wait_until(pilot, lambda: table.get_job("quiet").run_count == 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        assert app.screen.text == "quick ran"


def test_v_hands_the_whole_execution_to_the_pager_and_the_console_comes_back(
    tmp_path: Path,
) -> None:
    (tmp_path / "pagerjobs.py").write_text(
        "def loud():\n"
        "    for n in range(1, 301):\n"
        "        print(f'line {n}')\n"
        "    raise RuntimeError('loud failed')\n\n"
        "REGISTERED_JOBS = [{'job_id': 'loud', 'func': loud, 'cron_expression': '0 0 1 1 *'}]\n"
    )
    paged = tmp_path / "paged.txt"
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update(
        JOBCONSOLE_REGISTRY="pagerjobs",
        JOBCONSOLE_STATE=str(tmp_path / "state.sqlite3"),
        JOBCONSOLE_TIMEZONE="UTC",
        PYTHONPATH=str(tmp_path),
        # A pager that keeps what it is given, then waits for a key as less would.
        PAGER=f"{sys.executable} -c \"import sys; open({str(paged)!r}, 'w').write("
        f"sys.stdin.read()); open('/dev/tty').readline()\"",
    )
    console = Console(tmp_path, env)
    try:
        console.until(lambda: b"loud" in console.screen, "the first frame")
        console.type(b"t")
        console.until(lambda: b"RuntimeError: loud failed" in console.screen, "the run")
        console.type(b"o")
        console.until(lambda: b"lines of output" in console.screen, "the output view")
        console.type(b"v")
        console.until(lambda: paged.exists() and paged.stat().st_size > 0, "the pager")
        console.read_for(0.3)
        drawn = len(console.screen)
        console.type(b"\r")  # leave the pager: the console draws itself again
        console.until(lambda: b"lines of output" in console.screen[drawn:], "the redraw")
        console.type(b"\x1b")
        console.read_for(0.3)
        console.type(b"q")
        console.exit_time(20)
    finally:
        console.close()
    assert console.proc.returncode == 0
    report = paged.read_text()
    assert report.startswith("execution #")
    assert "  job       loud\n" in report and "  status    failed (manual)\n" in report
    assert "line 1\n" in report and "line 300\n" in report
    assert report.rstrip().endswith("RuntimeError: loud failed")


async def test_enter_on_a_log_line_opens_that_run_as_it_ended(service: SchedulerService) -> None:
    service.register_job("loud", "tests.jobfuncs:prints_a_thousand_lines", YEARLY)
    service.register_job("quiet", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("loud").run_count == 1)
        await pilot.press("j", "t")
        await wait_until(pilot, lambda: table.get_job("quiet").run_count == 1)
        log.focus()
        await pilot.pause()
        # The newest line first: quiet's end. Up three: loud's "started" line.
        assert "quiet" in log.lines[log.cursor_line] and "succeeded" in log.lines[-1]
        await pilot.press("k", "k", "k")
        assert "loud" in log.lines[log.cursor_line] and "started" in log.lines[log.cursor_line]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        view = app.screen
        assert isinstance(view, OutputScreen)
        assert "failed" in str(view.query_one("#output-title", Static).render())
        assert len(view.text.split("\n")) == 1001
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is log and "loud" in log.lines[log.cursor_line]


async def test_scrolled_up_the_log_counts_the_lines_waiting_below(
    service: SchedulerService,
) -> None:
    service.register_job("quiet", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        for runs in range(1, 7):
            service.run_job_now("quiet")
            await wait_until(pilot, lambda runs=runs: table.get_job("quiet").run_count == runs)
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert not log.border_subtitle
        for runs in range(7, 9):
            service.run_job_now("quiet")
            await wait_until(pilot, lambda runs=runs: table.get_job("quiet").run_count == runs)
        await pilot.pause()
        assert log.border_subtitle == "↓ 4 new lines"  # two runs: started and succeeded
        await pilot.press("end")
        await pilot.pause()
        assert not log.border_subtitle


async def test_every_kind_of_line_keeps_its_columns_whatever_the_ids_length(
    service: SchedulerService,
) -> None:
    long_id = "nightly_warehouse_export_to_partner_bucket_eu_west"  # 50 characters
    service.register_job(long_id, "tests.jobfuncs:boom", YEARLY)
    service.register_job("q", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        await wait_until(pilot, lambda: any("started" in line for line in log.lines))
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job(long_id).run_count == 1)
        await pilot.press("j", "t")
        await wait_until(pilot, lambda: table.get_job("q").run_count == 1)
        runs = [line for line in log.lines if "scheduler" not in line]
        assert len(runs) == 4, runs
        assert any(line.split()[1:3] == ["scheduler", "started"] for line in log.lines)
        status_columns = {
            min(line.find(word) for word in (" started", " succeeded", " failed") if word in line)
            for line in runs
        }
        assert len(status_columns) == 1, runs  # one column, long id or short
        assert any("nightly_warehouse_export_to_par…" in line for line in runs), runs
        took = {line.find("s  run now") for line in runs if "started" not in line}
        assert len(took) == 1, runs


async def test_the_detail_view_lists_runs_first_and_enter_opens_one_whole(
    service: SchedulerService,
) -> None:
    service.register_job("loud", "tests.jobfuncs:prints_a_thousand_lines", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        for runs in (1, 2):
            await pilot.press("t")
            await wait_until(pilot, lambda runs=runs: table.get_job("loud").run_count == runs)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        text = detail.text
        assert text.index("Recent executions") < text.index("Configuration")
        assert text.index("Configuration") < text.index("Next 10 fire times")
        newest, older = (e.id for e in service.recent_executions("loud"))
        assert text.index(f"#{newest}") < text.index(f"#{older}")
        await pilot.press("down", "enter")  # the older run
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen))
        view = app.screen
        assert isinstance(view, OutputScreen) and view.execution_id == older
        assert len(view.text.split("\n")) == 1001
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is detail
