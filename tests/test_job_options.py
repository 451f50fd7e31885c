"""A job's options, defined once: the registry's keys and the timeout's one reading."""

from __future__ import annotations

from dataclasses import fields

import pytest

from jobs.config import CronJobConfig
from jobs.core import job_options
from jobs.core.errors import InvalidJobError
from tui.app import parse_timeout as console_parse_timeout


def test_the_registry_keys_are_the_documented_ones() -> None:
    assert set(CronJobConfig.__annotations__) == job_options.CONFIG_KEYS
    assert CronJobConfig.__required_keys__ == job_options.REQUIRED_KEYS
    assert CronJobConfig.__optional_keys__ == set(job_options.NAMES)


def test_each_option_is_a_key_of_the_same_type_for_the_registry_and_register_job() -> None:
    """``OptionKeys`` (what a registry entry and ``register_job`` take) follows JobOptions."""
    keys = job_options.OptionKeys.__annotations__
    assert tuple(keys) == job_options.NAMES
    for f in fields(job_options.JobOptions):
        assert f.type.removesuffix(" | None") == keys[f.name].__forward_arg__, f.name


REFUSED = "is not a number of seconds above 0 and at most 31,536,000 (365 days)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), (" none ", None), ("30", 30.0), ("0.5", 0.5), ("31536000", 31536000.0)],
)
def test_a_typed_timeout_reads_as_seconds_or_none(text: str, expected: float | None) -> None:
    """The edit form reads its timeout field with this very function."""
    assert job_options.parse_timeout(text) == expected
    assert console_parse_timeout is job_options.parse_timeout


@pytest.mark.parametrize("text", ["31536001", "0", "-1", "nan", "inf", "ten"])
def test_a_typed_timeout_out_of_range_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError) as info:
        job_options.parse_timeout(text)
    assert str(info.value).startswith(f"timeout: {text!r} {REFUSED}; e.g. 30, or empty for none")


@pytest.mark.parametrize("value", [0, -1, True, "30", float("nan"), 365 * 24 * 3600 + 1])
def test_a_bad_timeout_names_the_job_and_the_value(value: object) -> None:
    with pytest.raises(InvalidJobError, match=r"job 'j': timeout_seconds=.* is not valid"):
        job_options.check_timeout("j", value)


def test_no_option_is_named_as_the_state_file_names_a_registrys_own_value() -> None:
    """The state file's JSON column keeps the registry's own value of an editable option
    as ``code_NAME`` beside the options themselves."""
    assert not [name for name in job_options.NAMES if name.startswith("code_")]
