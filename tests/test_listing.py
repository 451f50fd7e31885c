"""``jobconsole list`` works its table out without loading the jobs (``jobs.core.listing``):
what it prints must be what a service that loaded the registry and merged the state file
lists, byte for byte at a fixed "now", with the same errors and notices in the same order,
for good entries, odd and bad ones, and every kind of stored row."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.core import cron, cron_cache, live_jobs
from jobs.core.records import JobSource
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.state_store import StateStore, StoredJob
from jobs.core.store import Store
from tests import jobfuncs_core as jf
from tests.records import stored_job
from tests.test_registry_fast_path import BAD, SEEDS, Twisted
from tui.cli import listing

NOW = datetime(2026, 11, 30, 13, 58, 30, tzinfo=UTC)
HOURLY = "0 * * * *"


def _entry(job_id: str, expression: str = HOURLY, **options: Any) -> dict[str, Any]:
    return {"job_id": job_id, "func": jf.ok_async, "cron_expression": expression, **options}


def _edited(job_id: str, code_enabled: bool = True, **changes: Any) -> StoredJob:
    """A registry job's row with ``enabled`` changed in the console: the registry's own
    value when it was saved is ``code_enabled``."""
    row = stored_job(job_id, func_ref="tests.jobfuncs_core:ok_async", **changes)
    return replace(row, code_options=replace(row.options, enabled=code_enabled))


def _timed(job_id: str, timeout: float) -> StoredJob:
    """A registry job's unedited row with the registry's timeout ``timeout``."""
    return stored_job(
        job_id,
        func_ref="tests.jobfuncs_core:ok_async",
        timeout_seconds=timeout,
        code_timeout_seconds=timeout,
    )


#: What the state file holds, as the console leaves it: (row, what ``list`` shows).
ROWS: list[tuple[StoredJob, str | None]] = [
    (stored_job("paused", func_ref="tests.jobfuncs_core:ok_async", paused=True), "paused"),
    (
        stored_job(
            "edited", func_ref="tests.jobfuncs_core:ok_async", cron_expression="*/5 * * * *"
        ),
        "*/5 * * * *",
    ),
    (stored_job("timed", func_ref="tests.jobfuncs_core:ok_async", timeout_seconds=3.0), None),
    (_edited("switched_off", enabled=False), "disabled"),
    (_edited("switched_on", code_enabled=False), "scheduled"),
    (
        stored_job(
            "changed_in_code",
            func_ref="tests.jobfuncs_core:ok_async",
            cron_expression="*/5 * * * *",
            code_cron_expression="*/10 * * * *",
        ),
        HOURLY,
    ),
    (stored_job("removed", func_ref="tests.jobfuncs_core:ok_async", removed=True), None),
    (stored_job("gone_from_code", func_ref="tests.jobfuncs_core:ok_async"), None),
    (stored_job("bad_minute", func_ref="tests.jobfuncs_core:ok_async", paused=True), None),
    (
        stored_job(
            "console_job",
            func_ref="tests.jobfuncs_core:ok_plain",
            source=JobSource.CONSOLE,
            cron_expression="@daily",
            code_cron_expression=None,
            paused=True,
        ),
        "paused",
    ),
    (
        stored_job(
            "console_gone",
            func_ref="tests.jobfuncs_core:no_such_function",
            source=JobSource.CONSOLE,
            code_cron_expression=None,
        ),
        "error: cannot be restored",
    ),
    (
        stored_job(
            "seed",
            func_ref="tests.jobfuncs_core:ok_plain",
            source=JobSource.CONSOLE,
            code_cron_expression=None,
        ),
        None,
    ),
    (stored_job("plain_row", func_ref="tests.jobfuncs_core:ok_async"), None),
    (stored_job("moved_in_code", func_ref="tests.jobfuncs_core:ok_async"), "*/10 * * * *"),
    (stored_job("retimed", func_ref="tests.jobfuncs_core:ok_async"), None),
    (_timed("whole_timeout", 30.0), None),
    (_timed("half_timeout", 2.5), None),
    (_timed("retimed_whole", 30.0), None),
    # Named as the refused entry 62 is kept (its own id is a job's): a notice says which.
    (stored_job("registry entry 62", func_ref="tests.jobfuncs_core:ok_async"), None),
]

ENTRIES: list[Any] = [
    *SEEDS,
    _entry("paused"),
    _entry("edited"),
    _entry("timed"),
    _entry("switched_off"),
    _entry("switched_on", enabled=False),
    _entry("changed_in_code"),
    _entry("removed"),
    _entry("plain_row"),
    *(entry for entry, _ in BAD),
    _entry("paused"),  # a second use of an id listed without the service
    {"job_id": "twisted", "func": jf.ok_plain, "cron_expression": "*/5 * * * *"},
    Twisted(job_id="twisted2", func=jf.ok_plain, cron_expression="*/5 * * * *"),
    _entry("twisted"),
    {"job_id": "by_ref", "func": "tests.jobfuncs_core:ok_plain", "cron_expression": "@daily"},
    {"job_id": "by_ref", "func": "tests.jobfuncs_core:ok_plain", "cron_expression": "@daily"},
    _entry("zoned", "30 2 * * *", timezone="Asia/Kolkata", description="given words"),
    _entry("zoned2", "30 2 * * *", timezone="Asia/Kolkata", description="given words"),
    "not a dict",
    {"job_id": "extra", "func": jf.ok_async, "cron_expression": HOURLY, "colour": "red"},
    {"func": jf.ok_async, "cron_expression": HOURLY},
    _entry("bad_minute", "61 * * * *"),  # its row is kept, and not listed
    _entry("plain_row", "5 * * * *"),  # refused: its id is taken
    _entry("timed", "61 * * * *"),  # refused, kept as "registry entry 62"
    _entry("moved_in_code", "*/10 * * * *"),
    _entry("retimed", timeout_seconds=7),
    _entry("whole_timeout", timeout_seconds=30),
    _entry("half_timeout", timeout_seconds=2.5),
    _entry("retimed_whole", timeout_seconds=31),
]


@pytest.fixture(autouse=True)
def _fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing found good before, and a cache directory of the test's own."""
    monkeypatch.setattr(live_jobs, "_funcs_seen", {})
    monkeypatch.setattr(live_jobs, "_options_seen", {})
    monkeypatch.setattr(live_jobs, "_defaults_seen", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cron, "FEW", 0)
    cron_cache.forget()
    yield
    cron_cache.forget()


def _state(tmp_path: Path, rows: list[Any]) -> Path:
    path = tmp_path / "state.sqlite3"
    store = Store.open_path(path)
    for row in rows:
        store.save_job(row)
    store.close()
    return path


def _service(path: Path | None) -> SchedulerService:
    store = Store.open_path(path, read_only=True) if path is not None else None
    return SchedulerService(Settings(timezone="UTC", state_path=path), store=store)


def _loaded(path: Path | None, entries: list[Any], width: int | None) -> tuple[str, list[str]]:
    """The table and errors of a service that loaded and merged everything."""
    service = _service(path)
    service.load_registry(entries)
    service.load_state()
    try:
        return listing(service, NOW, width), service.boot_errors
    finally:
        service.close()


def _streamed(path: Path | None, entries: list[Any], width: int | None) -> tuple[str, list[str]]:
    """The table and errors as ``jobconsole list`` works them out."""
    service = _service(path)
    service.stage_registry(entries)
    try:
        return listing(service, NOW, width, service.list_staged()), service.boot_errors
    finally:
        service.close()


def _logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int, str]]:
    found = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    caplog.clear()
    return found


@pytest.mark.parametrize("width", [None, 80])
@pytest.mark.parametrize("seen_before", [False, True], ids=["first", "seen"])
def test_list_prints_what_a_loaded_service_lists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, width: int | None, seen_before: bool
) -> None:
    path = _state(tmp_path, [row for row, _ in ROWS])
    caplog.set_level(logging.INFO, logger="jobconsole")
    if seen_before:  # every good value found good already: the most entries listed alone
        _loaded(path, ENTRIES, width)
        caplog.clear()
    streamed = _streamed(path, ENTRIES, width)
    streamed_log = _logged(caplog)
    loaded = _loaded(path, ENTRIES, width)
    assert streamed == loaded
    assert streamed_log == _logged(caplog)
    assert len(streamed[1]) == len(BAD) + 9
    notices = [message for _, _, message in streamed_log]
    assert "gone_from_code: no longer defined in code; not scheduled" in notices
    assert any(m.startswith("registry entry 62: its registry entry is not valid") for m in notices)
    assert any(m.startswith("retimed: the registry's timeout changed") for m in notices)
    assert any(m.startswith("retimed_whole: the registry's timeout changed") for m in notices)


def test_each_kind_of_stored_row_shows_as_the_merge_says(tmp_path: Path) -> None:
    text, errors = _streamed(_state(tmp_path, [row for row, _ in ROWS]), ENTRIES, None)
    lines = text.splitlines()[1:]
    rows = {line.split()[0]: line for line in lines}
    for row, shown in ROWS:
        if row.job_id in ("removed", "gone_from_code", "bad_minute", "registry entry 62"):
            assert row.job_id not in rows  # removed in the console, gone, refused
        elif shown is not None:
            assert shown in rows[row.job_id], rows[row.job_id]
    assert "paused" not in rows["plain_row"] and "(in " in rows["plain_row"]
    assert [line.split()[0] for line in lines[-2:]] == ["console_job", "console_gone"]
    assert "given words" in rows["zoned2"]
    assert "registry entry" not in "".join(rows)  # a refused entry is not a row
    assert errors[-2].startswith("registry entry 61 ('plain_row'): a job with id 'plain_row'")


@pytest.mark.parametrize(
    "entries",
    [
        [_entry(f"job{i}", f"{i % 60} * * * *") for i in range(300)],
        [_entry("a"), _entry("a"), _entry("b", "@daily"), _entry("a", "@daily")],
        [_entry("a", "@daily"), {"job_id": "a", "func": 5, "cron_expression": "@daily"}],
        [],
    ],
    ids=["many", "duplicates", "a bad duplicate", "none"],
)
@pytest.mark.parametrize("stored", [True, False], ids=["state file", "no state file"])
def test_registries_without_odd_rows_list_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, entries: list[Any], stored: bool
) -> None:
    path = _state(tmp_path, [row for row, _ in ROWS]) if stored else None
    caplog.set_level(logging.INFO, logger="jobconsole")
    streamed = _streamed(path, entries, None)
    streamed_log = _logged(caplog)
    assert streamed == _loaded(path, entries, None)
    assert streamed_log == _logged(caplog)


def test_the_state_files_unedited_rows_are_those_the_rule_on_stored_jobs_names(
    tmp_path: Path,
) -> None:
    rows = [row for row, _ in ROWS]
    rows += [
        stored_job("code_timeout", timeout_seconds=5.0, code_timeout_seconds=5.0),
        stored_job("own_timeout", timeout_seconds=5.0),
        stored_job("code_off", enabled=False),
        _edited("code_on", enabled=False, code_enabled=True),
    ]
    store = Store.open_path(_state(tmp_path, rows), read_only=True)
    try:
        read = store.listing_rows()
        assert read == StateStore.listing_rows(store)  # the rule as SQL, and on StoredJobs
    finally:
        store.close()
    unedited = {job_id for job_id, plain, *_ in read if plain}
    assert unedited == {"gone_from_code", "plain_row", "moved_in_code", "retimed",
                        "registry entry 62", "code_timeout", "code_off", "whole_timeout",
                        "half_timeout", "retimed_whole"}  # fmt: skip
