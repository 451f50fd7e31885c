"""A job's options, defined once: the registry's keys and the timeout's one reading."""

from __future__ import annotations

import pytest

from jobs.config import CronJobConfig
from jobs.core import job_options
from jobs.core.errors import InvalidJobError
from tui.app import parse_timeout as console_parse_timeout

TYPED = ["", " none ", "30", "0.5", "31536000", "31536001", "0", "-1", "nan", "inf", "ten"]


def test_the_registry_keys_are_the_documented_ones() -> None:
    assert set(CronJobConfig.__annotations__) == job_options.CONFIG_KEYS
    hints = CronJobConfig.__annotations__
    required = {k for k, t in hints.items() if "NotRequired" not in str(t)}
    assert required == job_options.REQUIRED_KEYS


@pytest.mark.parametrize("text", TYPED)
def test_a_typed_timeout_reads_as_the_edit_form_reads_it(text: str) -> None:
    try:
        expected: object = console_parse_timeout(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            job_options.parse_timeout(text)
        assert str(info.value) == str(exc)
    else:
        assert job_options.parse_timeout(text) == expected


@pytest.mark.parametrize("value", [0, -1, True, "30", float("nan"), 365 * 24 * 3600 + 1])
def test_a_bad_timeout_names_the_job_and_the_value(value: object) -> None:
    with pytest.raises(InvalidJobError, match=r"job 'j': timeout_seconds=.* is not valid"):
        job_options.check_timeout("j", value)
