"""Enabling and disabling a job: in the service, across restarts of a real state file,
through the control API and as the command line's verbs.

The rule (as for an edit): a console's enable or disable is kept across restarts until the
registry's own ``enabled`` changes; then the registry's value wins and the log says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.core import restore
from jobs.core.errors import JobNotFoundError
from jobs.core.records import EventKind, JobState
from jobs.core.service import SchedulerService
from jobs.core.store import Store
from tests.records import stored_job
from tests.test_control_api import QUICK
from tests.test_store import collect, make_service, stop, warnings_of

YEARLY = "0 0 1 1 *"


def registry_job(path: Path, *, enabled: bool = True) -> SchedulerService:
    service = make_service(path)
    service.register_job("nightly", QUICK, YEARLY, enabled=enabled)
    return service


# ------------------------------------------------------------------ the service


async def test_disable_stops_scheduling_and_enable_brings_the_next_run_back(
    service_factory,
) -> None:
    service = service_factory()
    service.register_job("nightly", QUICK, YEARLY)
    events = collect(service)
    service.start()
    assert service.get_job("nightly").next_run_time is not None
    disabled = service.disable_job("nightly")
    assert disabled.state is JobState.DISABLED and not disabled.enabled
    assert disabled.next_run_time is None
    assert service.disable_job("nightly") == disabled  # again: nothing changes
    enabled = service.enable_job("nightly")
    assert enabled.state is JobState.SCHEDULED and enabled.next_run_time is not None
    kinds = [e.kind for e in events if e.job_id == "nightly"]
    assert kinds.count(EventKind.JOB_DISABLED) == 1 and kinds.count(EventKind.JOB_ENABLED) == 1
    with pytest.raises(JobNotFoundError):
        service.enable_job("nosuch")


async def test_a_paused_job_enabled_stays_paused(service_factory) -> None:
    service = service_factory()
    service.register_job("nightly", QUICK, YEARLY, enabled=False)
    service.start()
    service.pause_job("nightly")
    assert service.get_job("nightly").state is JobState.DISABLED
    job = service.enable_job("nightly")
    assert job.state is JobState.PAUSED and job.next_run_time is None
    assert service.resume_job("nightly").next_run_time is not None


async def test_a_console_disable_of_a_registry_job_is_kept_across_restarts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    service = registry_job(path)
    service.start()
    service.disable_job("nightly")
    await stop(service)
    for _ in range(2):
        service = registry_job(path)
        service.start()
        try:
            job = service.get_job("nightly")
            assert job.state is JobState.DISABLED and job.next_run_time is None
        finally:
            await stop(service)


async def test_a_console_enable_wins_over_the_registrys_false_until_the_registry_changes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    service = registry_job(path, enabled=False)
    service.start()
    service.enable_job("nightly")
    await stop(service)

    service = registry_job(path, enabled=False)  # the registry still says False
    service.start()
    try:
        assert service.get_job("nightly").state is JobState.SCHEDULED
        service.disable_job("nightly")  # and back: the registry's own value again
    finally:
        await stop(service)

    service = registry_job(path, enabled=False)
    service.start()
    try:
        assert service.get_job("nightly").state is JobState.DISABLED
        service.enable_job("nightly")
    finally:
        await stop(service)

    # The registry's own value changes (False to True, then True to False): it wins.
    service = registry_job(path, enabled=True)
    service.start()
    await stop(service)
    service = registry_job(path, enabled=False)
    events = collect(service)
    service.start()
    try:
        assert service.get_job("nightly").state is JobState.DISABLED
        assert (
            "nightly: the registry's enabled changed from True to False; it replaces the one stored"
        ) in warnings_of(events)
    finally:
        await stop(service)


async def test_a_console_job_disabled_comes_back_disabled(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    service = make_service(path)
    service.start()
    service.register_job("adhoc", QUICK, YEARLY)
    service.disable_job("adhoc")
    await stop(service)
    service = make_service(path)
    service.start()
    try:
        assert service.get_job("adhoc").state is JobState.DISABLED
    finally:
        await stop(service)


def test_the_merge_keeps_the_consoles_enabled_while_the_registrys_own_is_unchanged() -> None:
    class Code:
        cron_expression = "0 * * * *"

        def __init__(self, enabled: bool) -> None:
            from jobs.core.job_options import JobOptions

            self.options = JobOptions(timezone="UTC", enabled=enabled)

    disabled_here = stored_job("a", enabled=False)
    code = replace_code(disabled_here, enabled=True)
    (kept,) = restore.merge({"a": Code(True)}, [code]).kept
    assert kept.options is not None and kept.options.enabled is False
    merged = restore.merge({"a": Code(False)}, [code])
    assert merged.kept[0].options is None  # the registry's own, changed, wins
    assert merged.notices == [
        "a: the registry's enabled changed from True to False; it replaces the one stored"
    ]


def replace_code(row, **code):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(row, code_options=replace(row.code_options, **code))


async def test_an_older_state_file_without_the_registrys_enabled_reads_as_unchanged(
    tmp_path: Path,
) -> None:
    """A row written before enable existed holds no "code_enabled": the row's own value
    was the registry's, so nothing reads as edited."""
    path = tmp_path / "state.sqlite3"
    service = registry_job(path, enabled=False)
    service.start()
    await stop(service)
    store = Store.open_path(path, read_only=True)
    try:
        (row,) = store.load_jobs()
    finally:
        store.close()
    assert row.code_options is not None and row.code_options.enabled is False


async def test_a_registry_entry_broken_by_a_typo_keeps_its_stored_pause_and_edits(
    tmp_path: Path,
) -> None:
    """A typo in the registry must not cost the job what the state file kept of it: once
    the entry is fixed, the pause and the console's edit are still there."""
    path = tmp_path / "state.sqlite3"

    def entry(cron_expression: str) -> list[dict[str, object]]:
        return [{"job_id": "nightly", "func": QUICK, "cron_expression": cron_expression}]

    service = make_service(path)
    service.load_registry(entry(YEARLY))
    service.start()
    service.pause_job("nightly")
    service.set_timeout("nightly", 7.0)
    await stop(service)

    broken = make_service(path)
    broken.load_registry(entry("0 0 1 1 * *"))  # a sixth field: rejected
    broken.start()
    try:
        assert [r.row_id for r in broken.rejected] == ["nightly"]
    finally:
        await stop(broken)

    fixed = make_service(path)
    fixed.load_registry(entry(YEARLY))
    fixed.start()
    try:
        job = fixed.get_job("nightly")
        assert job.state is JobState.PAUSED
        assert job.timeout_seconds == 7.0
    finally:
        await stop(fixed)
