"""The forms' helpers without Textual: a refusal reaches the field it names."""

from __future__ import annotations

import pytest

from jobs.core import cron
from jobs.core.errors import DuplicateJobError, InvalidJobError, JobNotFoundError
from jobs.core.job_options import parse_timeout
from jobs.core.service import SchedulerService
from tui.forms import register_error


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
