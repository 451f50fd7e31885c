# ruff: noqa: E501  (the reasons are quoted whole)
"""Registry entries the loading's fast path sees after good ones: each distinct function,
set of options and day fields is checked once, and an entry made of values already found
good skips the checks. An entry that differs in any way (an odd id, a value of another
type, a zone, a field) must still be refused, word for word as on its own."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.core import job_options
from jobs.core.records import JobSource
from tests import jobfuncs_core as jf
from tests.jobfuncs_core import new_service


class Str(str):
    """A string of another type: kept apart from the string itself."""


def _nested() -> Any:
    return lambda: None


#: Entries that fill what the fast path keeps: both kinds of function, options given and
#: none, a zone, a process isolation, a restricted day field that cronsim checks.
SEEDS: list[dict[str, Any]] = [
    {"job_id": "seed", "func": jf.ok_async, "cron_expression": "5 4 1 1 1", "enabled": True},
    {"job_id": "seed_plain", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
    {
        "job_id": "seed_zone",
        "func": jf.ok_async,
        "cron_expression": "@daily",
        "timezone": "Europe/London",
    },
    {
        "job_id": "seed_proc",
        "func": jf.ok_plain,
        "cron_expression": "@daily",
        "isolation": "process",
    },
    {"job_id": "seed_lambda", "func": _nested(), "cron_expression": "@daily"},
]

#: Each bad entry and the reason it is refused on its own (as before the fast path).
BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"job_id": " lead", "func": jf.ok_async, "cron_expression": "5 4 1 1 1", "enabled": True},
        "job id ' lead' is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "trail ", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'trail ' is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id '' is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "   ", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id '   ' is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "tab\there", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'tab\\there' is not valid: no tabs or newlines",
    ),
    (
        {"job_id": "new\nline", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'new\\nline' is not valid: no tabs or newlines",
    ),
    (
        {"job_id": "bidi\u202eflip", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'bidi\\u202eflip' is not valid: '\\u202e' (U+202E) is a control or format character; expected printable characters only, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "esc\x1b[2J", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'esc\\x1b[2J' is not valid: '\\x1b' (U+001B) is a control or format character; expected printable characters only, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "x" * 201, "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (203 characters) is too long: 201 characters; expected at most 200",
    ),
    (
        {"job_id": 5, "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id 5 is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": None, "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        "job id None is not valid: expected a non-empty name without surrounding spaces, e.g. 'cleanup_expired_tokens'",
    ),
    (
        {"job_id": "not_callable", "func": 42, "cron_expression": "*/5 * * * *"},
        "job 'not_callable': func must be a callable or a 'module:function' string, got int 42",
    ),
    (
        {
            "job_id": "bad_ref",
            "func": "tests.jobfuncs_core:nothing_here",
            "cron_expression": "*/5 * * * *",
        },
        "function reference 'tests.jobfuncs_core:nothing_here': 'tests.jobfuncs_core' has no attribute 'nothing_here'",
    ),
    (
        {"job_id": "needs_args", "func": jf.needs_argument, "cron_expression": "*/5 * * * *"},
        "job 'needs_args': tests.jobfuncs_core:needs_argument needs arguments (value: 'int') -> 'None'; a job function must be callable with none",
    ),
    (
        {
            "job_id": "bad_minute",
            "func": jf.ok_async,
            "cron_expression": "61 4 1 1 1",
            "enabled": True,
        },
        "invalid cron expression '61 4 1 1 1': minute field: 61 is out of range 0-59",
    ),
    (
        {
            "job_id": "bad_hour",
            "func": jf.ok_async,
            "cron_expression": "5 24 1 1 1",
            "enabled": True,
        },
        "invalid cron expression '5 24 1 1 1': hour field: 24 is out of range 0-23",
    ),
    (
        {"job_id": "never", "func": jf.ok_async, "cron_expression": "5 4 31 2 *", "enabled": True},
        "invalid cron expression '5 4 31 2 *': can never fire: day-of-month '31' never occurs in month '2'",
    ),
    (
        {
            "job_id": "never_and",
            "func": jf.ok_async,
            "cron_expression": "5 4 30 2 *",
            "enabled": True,
        },
        "invalid cron expression '5 4 30 2 *': can never fire: day-of-month '30' never occurs in month '2'",
    ),
    (
        {"job_id": "not_text", "func": jf.ok_async, "cron_expression": 5, "enabled": True},
        "invalid cron expression '5': expected a string such as '0 9 * * 1-5'",
    ),
    (
        {"job_id": "empty_cron", "func": jf.ok_async, "cron_expression": "  ", "enabled": True},
        "invalid cron expression '  ': the expression is empty; expected 5 fields or a macro",
    ),
    (
        {
            "job_id": "enabled_int",
            "func": jf.ok_async,
            "cron_expression": "5 4 1 1 1",
            "enabled": 1,
        },
        "job 'enabled_int': enabled=1; expected True or False",
    ),
    (
        {
            "job_id": "enabled_none",
            "func": jf.ok_async,
            "cron_expression": "5 4 1 1 1",
            "enabled": None,
        },
        "job 'enabled_none': enabled=None; expected True or False",
    ),
    (
        {
            "job_id": "enabled_text",
            "func": jf.ok_async,
            "cron_expression": "5 4 1 1 1",
            "enabled": "True",
        },
        "job 'enabled_text': enabled='True'; expected True or False",
    ),
    (
        {
            "job_id": "zone_unknown",
            "func": jf.ok_async,
            "cron_expression": "@daily",
            "timezone": "Mars/Olympus",
        },
        "unknown time zone 'Mars/Olympus': expected an IANA name such as 'UTC' or 'Europe/London'",
    ),
    (
        {
            "job_id": "zone_folder",
            "func": jf.ok_async,
            "cron_expression": "@daily",
            "timezone": "Europe",
        },
        "unknown time zone 'Europe': expected an IANA name such as 'UTC' or 'Europe/London'",
    ),
    (
        {
            "job_id": "zone_spaced",
            "func": jf.ok_async,
            "cron_expression": "@daily",
            "timezone": " Europe/London",
        },
        "unknown time zone ' Europe/London': expected an IANA name such as 'UTC' or 'Europe/London'",
    ),
    (
        {
            "job_id": "zone_sub",
            "func": jf.ok_async,
            "cron_expression": "@daily",
            "timezone": Str("Mars/Olympus"),
        },
        "unknown time zone 'Mars/Olympus': expected an IANA name such as 'UTC' or 'Europe/London'",
    ),
    (
        {
            "job_id": "proc_lambda",
            "func": _nested(),
            "cron_expression": "@daily",
            "isolation": "process",
        },
        "job 'proc_lambda': isolation='process' needs a module-level function that a child process can import; tests.test_registry_fast_path:_nested.<locals>.<lambda> is not one",
    ),
    (
        {
            "job_id": "proc_bad",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "isolation": "fork",
        },
        "job 'proc_bad': isolation='fork'; expected 'process' or None",
    ),
    (
        {
            "job_id": "timeout_zero",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "timeout_seconds": 0,
        },
        "job 'timeout_zero': timeout_seconds=0 is not valid; expected a number of seconds above 0 and at most 31,536,000 (365 days), or None",
    ),
    (
        {
            "job_id": "timeout_nan",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "timeout_seconds": float("nan"),
        },
        "job 'timeout_nan': timeout_seconds=nan is not valid; expected a number of seconds above 0 and at most 31,536,000 (365 days), or None",
    ),
    (
        {
            "job_id": "timeout_bool",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "timeout_seconds": True,
        },
        "job 'timeout_bool': timeout_seconds=True is not valid; expected a number of seconds above 0 and at most 31,536,000 (365 days), or None",
    ),
    (
        {
            "job_id": "timeout_big",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "timeout_seconds": 10**9,
        },
        "job 'timeout_big': timeout_seconds=1000000000 is not valid; expected a number of seconds above 0 and at most 31,536,000 (365 days), or None",
    ),
    (
        {
            "job_id": "desc_long",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "description": "d" * 1001,
        },
        "job 'desc_long': the description is too long: 1,001 characters; expected at most 1,000",
    ),
    (
        {
            "job_id": "desc_list",
            "func": jf.ok_plain,
            "cron_expression": "@daily",
            "description": ["x"],
        },
        "job 'desc_list': description=['x']; expected a string or None",
    ),
]


@pytest.mark.parametrize(("entry", "reason"), BAD, ids=[str(e.get("job_id"))[:20] for e, _ in BAD])
def test_a_bad_entry_after_good_ones_is_refused_in_the_same_words(
    entry: dict[str, Any], reason: str
) -> None:
    service = new_service()
    assert service.load_registry([dict(seed) for seed in SEEDS]) == []
    for _ in range(2):  # once more, every good value now seen
        errors = service.load_registry([entry])
        assert errors == [f"registry entry 1 ({entry.get('job_id')!r}): {reason}"]
    assert sorted(service._jobs) == sorted(seed["job_id"] for seed in SEEDS)


def test_an_entry_through_the_fast_path_is_the_job_register_job_makes() -> None:
    entries = [
        *SEEDS,
        {"job_id": "again", "func": jf.ok_async, "cron_expression": "5 4 1 1 1", "enabled": True},
        {"job_id": "again_plain", "func": jf.ok_plain, "cron_expression": "0 9 * * 1-5"},
        {
            "job_id": "again_zone",
            "func": jf.ok_async,
            "cron_expression": "@hourly",
            "timezone": "Europe/London",
        },
        {"job_id": "jöb", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        {"job_id": Str("sub"), "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
        {"job_id": "ref", "func": "tests.jobfuncs_core:ok_plain", "cron_expression": "@daily"},
        {"job_id": "off", "func": jf.ok_plain, "cron_expression": "@daily", "enabled": False},
        {"job_id": "timed", "func": jf.ok_plain, "cron_expression": "@daily", "timeout_seconds": 5},
    ]
    loaded = new_service()
    assert loaded.load_registry(entries * 1) == []
    assert loaded.load_registry([dict(e, job_id=f"{e['job_id']}-2") for e in entries]) == []
    one_by_one = new_service()
    for entry in entries:
        one_by_one.register_job(**entry)
    for entry in entries:
        one_by_one.register_job(**dict(entry, job_id=f"{entry['job_id']}-2"))
    assert loaded.get_jobs() == one_by_one.get_jobs()
    for job_id, job in loaded._jobs.items():
        other = one_by_one._jobs[job_id]
        assert (job.func, job.func_ref, job.tz, job.schedule, job.options, job.transient) == (
            other.func,
            other.func_ref,
            other.tz,
            other.schedule,
            other.options,
            other.transient,
        )
        assert (job.source, job.code_cron, job.code_options) == (
            JobSource.REGISTRY,
            job.cron_expression,
            job.options,
        )
    assert loaded.get_job("timed").options.timeout_seconds == 5.0
    assert loaded.get_job("off").options == job_options.JobOptions(timezone="UTC", enabled=False)


def test_a_duplicate_id_through_the_fast_path_names_it() -> None:
    service = new_service()
    entry = {"job_id": "twice", "func": jf.ok_plain, "cron_expression": "@daily"}
    errors = service.load_registry([entry, dict(entry, cron_expression="@hourly")])
    assert errors == [
        "registry entry 2 ('twice'): a job with id 'twice' is already registered; choose another id"
    ]
    assert service.get_job("twice").cron_expression == "@daily"


class Twisted(dict):  # type: ignore[type-arg]
    """An entry that answers ``entry[key]`` differently from what ``**entry`` passes."""

    def __getitem__(self, key: str) -> Any:
        return "@hourly" if key == "cron_expression" else super().__getitem__(key)


def test_an_entry_of_a_dict_subclass_is_read_as_register_job_reads_keywords() -> None:
    service = new_service()
    assert service.load_registry([dict(SEEDS[1])]) == []
    entry = Twisted(job_id="twisted", func=jf.ok_plain, cron_expression="*/5 * * * *")
    assert service.load_registry([entry]) == []
    assert service.get_job("twisted").cron_expression == "*/5 * * * *"
