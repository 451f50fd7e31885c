"""Text that did not come from the program is data: never markup, never terminal control.

Job ids, descriptions, function references, error messages, captured output and what is
typed into the forms reach notifications, labels, the table, the log and the detail view.
Each test puts hostile text there through the real service and the real app, then checks
that it is on screen as written (or, for control characters, visibly escaped), that no
raw control character is drawn, and that the console is still running.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Label

from jobs.core.client import LocalClient
from jobs.core.errors import InvalidJobError
from jobs.core.service import SchedulerService
from tests.jobfuncs_hostile import ESCAPES, MARKUP
from tests.test_app import fill_register_form, toasts, type_text, wait_until
from tui.app import JobConsoleApp
from tui.screens import (
    ConfirmScreen,
    EditScheduleScreen,
    JobDetailScreen,
    RegisterScreen,
)
from tui.widgets import ExecutionLog, JobTable

SIZE = (120, 35)
WIDE = (220, 35)  # the description column is only 11 cells wide at 120
YEARLY = "0 0 1 1 *"
RAW_CONTROLS = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]]

#: Ids a user may choose (printable) that are also markup; short enough for the id column.
MARKUP_IDS = ["[/]", "[/bold]", "[b]bold[/b]", "[@click=app.quit]q", "a[red]b"]


def drawn_controls(text: str) -> list[str]:
    """The raw control characters in ``text`` (newlines aside): none may be drawn."""
    return [repr(ch) for ch in text if ch in RAW_CONTROLS]


def table_text(app: JobConsoleApp) -> str:
    table = app.query_one(JobTable)
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


# ------------------------------------------------------------------- markup


async def test_markup_in_a_registry_description_is_shown_as_written(
    service: SchedulerService,
) -> None:
    errors = service.load_registry(
        [
            {
                "job_id": "described",
                "func": "tests.jobfuncs:quick",
                "cron_expression": YEARLY,
                "description": MARKUP,
            }
        ]
    )
    assert errors == []
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await pilot.pause()
        assert MARKUP in table_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        assert MARKUP in app.screen.text
        await pilot.press("escape", "e")
        await pilot.pause()
        assert isinstance(app.screen, EditScheduleScreen)
        hint = app.screen.query_one(".field-hint")
        assert MARKUP in str(hint.render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.return_code is None


async def test_a_bad_registry_entry_named_with_markup_is_reported_as_written(
    service: SchedulerService,
) -> None:
    service.load_registry(
        [{"job_id": "[/]", "func": "tests.jobfuncs:missing", "cron_expression": YEARLY}]
    )
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts(pilot)
        assert any("registry entry 1 ('[/]')" in text for text in shown), shown
        assert app.return_code is None


@pytest.mark.parametrize("job_id", MARKUP_IDS)
async def test_every_key_on_a_job_named_with_markup_shows_it_as_written(
    service: SchedulerService, job_id: str
) -> None:
    service.register_job(job_id, "tests.jobfuncs:quick", YEARLY, description=MARKUP)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        log = app.query_one(ExecutionLog)
        assert job_id in table_text(app)

        await pilot.press("p")
        assert any(f"Paused {job_id}:" in text for text in await toasts(pilot))
        await pilot.press("p")
        assert any(f"{job_id} is already paused" in text for text in await toasts(pilot))
        await pilot.press("r")
        assert any(f"Resumed {job_id};" in text for text in await toasts(pilot))
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job(job_id).run_count == 1)
        assert any(f"Started {job_id} " in text for text in await toasts(pilot))

        await pilot.press("l")
        await pilot.pause()
        assert log.scope == job_id
        assert str(log.render_str(log.border_title or "")) == f"Log: {job_id}"
        assert any(job_id in line for line in log.lines)
        await pilot.press("l")

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)
        assert job_id in app.screen.query_one("#detail-title").render().plain
        assert MARKUP in app.screen.text
        await pilot.press("escape")

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EditScheduleScreen)
        title = app.screen.query_one(".title", Label)
        assert str(title.render()) == f"Edit the schedule of {job_id}"
        await pilot.press("escape")

        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.query_one(".title", Label)
        assert str(question.render()) == f"Remove {job_id}?"
        await pilot.press("n")
        assert any(f"Kept {job_id}" in text for text in await toasts(pilot))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        assert any(f"Removed {job_id}" in text for text in await toasts(pilot))
        assert not service.has_job(job_id)
        assert app.return_code is None


async def test_a_click_on_user_text_runs_no_action(service: SchedulerService) -> None:
    job_id = "[@click=app.quit]quit[/]"
    service.register_job(job_id, "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("d")
        await pilot.pause()
        question = app.screen.query_one(".title", Label)
        for x in range(question.size.width):  # wherever the link would be drawn
            await pilot.click(question, offset=(x, 0))
        await pilot.pause()
        assert app.return_code is None
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert service.has_job(job_id)


async def test_markup_in_output_and_errors_is_shown_as_written(
    service: SchedulerService,
) -> None:
    service.register_job("shouts", "tests.jobfuncs_hostile:shouts_markup", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("shouts").failure_count == 1)
        log = app.query_one(ExecutionLog)
        assert f"ValueError: err: {MARKUP}" in log.lines[-1]
        await pilot.press("enter")
        await pilot.pause()
        text = app.screen.text
        assert f"out: {MARKUP}" in text
        assert f"ValueError: err: {MARKUP}" in text
        assert app.return_code is None


async def test_markup_typed_into_the_register_form_is_echoed_as_written(
    service: SchedulerService,
) -> None:
    service.register_job("[/x]", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "[/x]", "tests.jobfuncs:quick", "@daily")
        form = app.screen
        assert isinstance(form, RegisterScreen)
        assert "'[/x]' is already registered" in form.field_error("job_id")
        form.query_one("#job_id", Input).value = "fresh"
        func = form.query_one("#func", Input)
        func.value = "[/x]"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert "function reference '[/x]'" in form.field_error("func")
        assert not service.has_job("fresh")
        assert app.return_code is None


async def test_markup_typed_as_a_timeout_is_echoed_as_written(service: SchedulerService) -> None:
    service.register_job("alpha", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, EditScheduleScreen)
        await pilot.press("tab")
        await type_text(pilot, "[/x]")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        note = form.query_one("#timeout-error")
        assert "timeout: '[/x]' is not a number" in str(note.render())
        assert app.return_code is None


# ---------------------------------------------------------------- control characters


async def test_escapes_in_a_description_output_and_error_are_drawn_visibly(
    service: SchedulerService,
) -> None:
    description = "desc \x1b]0;PWNED\x07 \x1b[2J\rforged\u202eevil"
    service.register_job(
        "escapes", "tests.jobfuncs_hostile:writes_escapes", YEARLY, description=description
    )
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        table = app.query_one(JobTable)
        await pilot.press("t")
        await wait_until(pilot, lambda: table.get_job("escapes").failure_count == 1)
        shown = table_text(app)
        assert drawn_controls(shown) == []
        assert "desc \\x1b]0;PWNED\\x07 \\x1b[2J\\rforged\\u202eevil" in shown
        log = app.query_one(ExecutionLog)
        line = log.lines[-1]
        assert drawn_controls(line) == []
        assert line.endswith("RuntimeError: err: \\x1b]0;PWNED\\x07\\x1b[2Jcleared")  # 1st line
        await pilot.press("enter")
        await pilot.pause()
        text = app.screen.text
        assert drawn_controls(text) == []
        assert "│ out: \\x1b]0;PWNED\\x07\\x1b[2Jcleared\\roverwritten\\x1b]52;c;aGk=\\x07" in text
        assert "\\x9b31m\\x7f" in text
        assert "RuntimeError: err: \\x1b]0;PWNED\\x07" in text
        assert "\\u202eevil" in text
        assert app.return_code is None


async def test_escapes_in_an_import_error_are_notified_visibly(
    service: SchedulerService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hostile_import_mod.py").write_text(f"raise RuntimeError({ESCAPES!r})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    service.load_registry(
        [{"job_id": "bad", "func": "hostile_import_mod:job", "cron_expression": YEARLY}]
    )
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts(pilot)
        assert any("RuntimeError: \\x1b]0;PWNED\\x07" in text for text in shown), shown
        assert all(drawn_controls(text) == [] for text in shown)


# -------------------------------------------------------------------------- ids


BAD_IDS = [
    ("esc\x1b[2J", "\\x1b"),
    ("bell\x07", "\\x07"),
    ("nul\x00", "\\x00"),
    ("del\x7f", "\\x7f"),
    ("csi\x9b", "\\x9b"),
    ("\u202eevil", "\\u202e"),
    ("zero\u200bwidth", "\\u200b"),
    ("lone\udcffsurrogate", "\\udcff"),
]


@pytest.mark.parametrize(("job_id", "shown"), BAD_IDS, ids=[s for _, s in BAD_IDS])
def test_ids_with_control_or_format_characters_are_refused_by_name(
    service: SchedulerService, job_id: str, shown: str
) -> None:
    with pytest.raises(InvalidJobError) as raised:
        service.register_job(job_id, "tests.jobfuncs:quick", YEARLY)
    message = str(raised.value)
    assert shown in message
    assert "printable" in message
    assert drawn_controls(message) == []
    assert not service.has_job(job_id)
    errors = service.load_registry(
        [{"job_id": job_id, "func": "tests.jobfuncs:quick", "cron_expression": YEARLY}]
    )
    assert len(errors) == 1 and shown in errors[0]
    assert service.get_jobs() == []


async def test_the_register_form_refuses_an_id_with_a_control_character(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await fill_register_form(pilot, "x", "tests.jobfuncs:quick", "@daily")
        form = app.screen
        assert isinstance(form, RegisterScreen)
        form.query_one("#job_id", Input).value = "pasted\x1b]0;PWNED\x07"
        await pilot.pause()
        form.query_one("#cron", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        error = form.field_error("job_id")
        assert "pasted\\x1b]0;PWNED\\x07" in error and "printable" in error
        assert service.get_jobs() == []
