"""The forms: their helpers without Textual (a refusal reaches the field it names), then
the register form through Pilot, on a real service."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from jobs.core import cron
from jobs.core.client import LocalClient
from jobs.core.errors import DuplicateJobError, InvalidJobError, JobNotFoundError
from jobs.core.job_options import MAX_DESCRIPTION_LENGTH, MAX_ID_LENGTH, parse_timeout
from jobs.core.service import SchedulerService
from tui.app import JobConsoleApp
from tui.forms import register_error
from tui.screens import JobDetailScreen, RegisterScreen
from tui.widgets import CronPreview, JobTable


@pytest.mark.parametrize("job_id", [" padded", "", "tab\there", "bell\x07"])
def test_the_service_names_the_id_as_the_field_of_a_bad_id(
    service: SchedulerService, job_id: str
) -> None:
    with pytest.raises(InvalidJobError) as caught:
        service.register_job(job_id, "tests.jobfuncs:plain", "* * * * *")
    assert caught.value.field == "job_id"
    assert register_error(caught.value) == ("job_id", str(caught.value))


def test_a_bad_function_is_shown_under_the_function(service: SchedulerService) -> None:
    with pytest.raises(InvalidJobError) as caught:
        service.register_job("fine", "no_such_module_here:fn", "* * * * *")
    assert register_error(caught.value) == ("func", str(caught.value))


def test_the_field_decides_not_the_words() -> None:
    assert register_error(InvalidJobError("job id words, but no field")) == (
        "func",
        "job id words, but no field",
    )
    assert register_error(InvalidJobError("any words", field="job_id"))[0] == "job_id"
    assert register_error(DuplicateJobError("x"))[0] == "job_id"
    assert JobNotFoundError("x").field == "job_id"


def test_a_cron_error_shows_its_reason_under_the_expression() -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.parse("61 * * * *")
    assert register_error(caught.value) == ("cron", caught.value.reason)


def test_timeouts() -> None:
    assert parse_timeout(" none ") is None
    assert parse_timeout("") is None
    assert parse_timeout("2.5") == 2.5
    with pytest.raises(ValueError, match="timeout: '0' is not a number of seconds"):
        parse_timeout("0")


# ----------------------------------------------------------- the form, through Pilot

SIZE = (120, 35)


def row_text(app: JobConsoleApp, job_id: str) -> str:
    """The job's row as drawn in the table."""
    table = app.query_one(JobTable)
    return table.render_line(table.visible_job_ids().index(job_id) + 1).text


async def open_form(pilot: Pilot) -> RegisterScreen:
    await pilot.press("n")
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, RegisterScreen)
    return form


async def fill(pilot: Pilot, *values: str) -> None:
    """Type ``values`` into the form's fields in Tab order, then Enter."""
    for n, value in enumerate(values):
        if n:
            await pilot.press("tab")
        await pilot.press(*value)
    await pilot.press("enter")
    await pilot.pause()


async def test_a_description_zone_and_timeout_are_registered_and_shown(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_form(pilot)
        values = ("nightly", "tests.jobfuncs:quick", "0 2 * * *", "Nightly report")
        await fill(pilot, *values, "Europe/London", "90")
        assert not isinstance(app.screen, RegisterScreen)
        job = service.get_job("nightly")
        assert (job.description, job.timezone, job.timeout_seconds) == (
            "Nightly report",
            "Europe/London",
            90.0,
        )
        assert "Nightly report" in row_text(app, "nightly")
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        assert "Nightly report" in detail.text
        assert "time zone  Europe/London" in detail.text
        assert "timeout    90s" in detail.text
        assert "GMT" in detail.text  # its fire times are in its zone (London in winter)


async def test_empty_optional_fields_register_with_the_defaults(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_form(pilot)
        await fill(pilot, "plain", "tests.jobfuncs:quick", "@daily")
        job = service.get_job("plain")
        assert (job.timezone, job.timeout_seconds) == (service.tz.key, None)
        assert job.description == "At 12:00 AM"  # the expression in words


async def test_a_bad_zone_is_shown_under_the_zone_and_nothing_is_registered(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        await fill(pilot, "mars", "tests.jobfuncs:quick", "@daily", "", "Mars/Olympus_Mons")
        assert app.screen is form
        assert form.field_error("timezone") == str(cron.TimezoneError("Mars/Olympus_Mons"))
        assert [form.field_error(f) for f in ("job_id", "func", "cron", "timeout")] == [""] * 4
        assert form.focused is form.query_one("#timezone")
        assert not service.has_job("mars")


async def test_a_bad_timeout_is_shown_under_the_timeout_and_nothing_is_registered(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        await fill(pilot, "slow", "tests.jobfuncs:quick", "@daily", "", "", "0")
        assert app.screen is form
        with pytest.raises(ValueError) as expected:
            parse_timeout("0")
        assert form.field_error("timeout") == str(expected.value)
        assert form.focused is form.query_one("#timeout")
        assert not service.has_job("slow")


async def test_an_empty_form_names_every_empty_required_field_at_once(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        await pilot.click("#submit")
        await pilot.pause()
        assert app.screen is form
        assert "job id '' is not valid" in form.field_error("job_id")
        assert "function reference '' is empty" in form.field_error("func")
        assert form.field_error("cron") == "the expression is empty; expected 5 fields or a macro"
        assert form.focused is form.query_one("#job_id")
        # Filled in part, only what is still empty is named.
        await pilot.press(*"half")
        await pilot.press("tab", "tab")
        await pilot.press("enter")
        await pilot.pause()
        assert form.field_error("job_id") == ""
        assert form.field_error("func") and form.field_error("cron")
        assert form.focused is form.query_one("#func")
        assert service.get_jobs() == []


async def test_a_too_long_id_is_flagged_as_it_is_typed(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        field = form.query_one("#job_id", Input)
        field.value = "x" * MAX_ID_LENGTH  # as a paste would
        await pilot.pause()
        assert form.field_error("job_id") == ""
        await pilot.press("y")  # one more character: flagged before any submit
        assert "is too long: 201 characters; expected at most 200" in form.field_error("job_id")
        assert field.has_class("-invalid")
        await pilot.press("backspace")
        assert form.field_error("job_id") == ""
        await pilot.press("x", "tab", *"tests.jobfuncs:quick", "tab", *"@daily", "enter")
        await pilot.pause()
        assert service.get_jobs() == [] and app.screen is form  # and refused on submit


async def test_a_too_long_description_is_flagged_as_it_is_typed(
    service: SchedulerService,
) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        await pilot.press(*"notes")
        field = form.query_one("#description", Input)
        field.value = "d" * MAX_DESCRIPTION_LENGTH
        await pilot.pause()
        assert form.field_error("description") == ""
        await pilot.press("tab", "tab", "tab", "end", "d")  # to the description's end
        error = form.field_error("description")
        assert error == (
            "job 'notes': the description is too long: 1,001 characters; expected at most 1,000"
        )
        await pilot.press("backspace")
        assert form.field_error("description") == ""


async def test_the_hint_names_what_the_completion_takes(service: SchedulerService) -> None:
    """Both go by prefix: the hint's first suggestion is what → puts in the field, and a
    part from the middle of a reference is neither listed nor completed."""
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        functions = form.functions
        await pilot.press("tab")
        hint = form.query_one("#func-error", Static)
        assert str(hint.render()) == (
            f"type the start of one, e.g. {functions[0]} (and {len(functions) - 1} more)"
        )
        for typed in ("jobs.", "JOBS.H", "jobs.r"):
            func = form.query_one("#func", Input)
            func.value = ""
            await pilot.press(*typed)
            await pilot.pause()
            first = str(hint.render()).removeprefix("→ takes ").split(" (and ")[0]
            await pilot.press("right")
            await pilot.pause()
            assert func.value == first, typed
            assert first.casefold().startswith(typed.casefold())
        func.value = ""
        await pilot.press(*"cleanup_expired")  # inside a reference, not its start
        await pilot.pause()
        assert str(hint.render()).startswith("no suggestion starts with this")
        await pilot.press("right")
        assert func.value == "cleanup_expired"


async def test_the_preview_follows_the_zone_typed(service: SchedulerService) -> None:
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        form = await open_form(pilot)
        await pilot.press("tab", "tab", *"0 9 * * *", "tab", "tab", *"Asia/Tokyo")
        await pilot.pause()
        assert "09:00 JST" in str(form.query_one(CronPreview).render())
