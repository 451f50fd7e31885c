"""The state writer never dies silently (issue 11): any text is stored, a write that fails
costs only itself, and a state file that cannot be written is shown where the user looks.

Failures are real: text SQLite's UTF-8 cannot hold, an integer beyond SQLite's, a file
size limit (what a full disk looks like to SQLite: its writes fail), the file removed or
replaced under the running writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import EventKind, Execution, ExecutionStatus, SchedulerEvent
from jobs.core.client import LocalClient
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.store import Store, WriteReport
from tests.jobfuncs_core import until

REPO = Path(__file__).resolve().parents[1]
YEARLY = "0 0 1 1 *"
NOW = datetime(2026, 3, 4, 12, 0, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def file_size_limit(path: Path, room: int = 0) -> Iterator[None]:
    """As on a full disk: no file of this process may grow more than ``room`` bytes past
    the current size of ``path``'s write-ahead log, so SQLite's appends beyond it fail.
    (Python ignores SIGXFSZ, so the write fails instead of the process being killed.)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(f"{path}-wal") + room, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def record(store: Store, *, job_id: str = "j", output: str = "") -> Execution:
    execution = Execution(
        id=store.next_execution_id(),
        job_id=job_id,
        status=ExecutionStatus.SUCCEEDED,
        scheduled_time=NOW - timedelta(seconds=5),
        started_at=NOW - timedelta(seconds=2),
        ended_at=NOW,
        output=output,
    )
    store.record_execution(execution)
    return execution


def reporting_store(path: Path) -> tuple[Store, list[WriteReport]]:
    store = Store.open_path(path)
    reports: list[WriteReport] = []
    store.set_reporter(reports.append)
    return store, reports


def stored_ids(path: Path) -> dict[int, str]:
    reader = Store.open_path(path, read_only=True)
    try:
        return {e.id: e.job_id for e in reader.executions(limit=1000)}
    finally:
        reader.close()


def make_service(path: Path) -> SchedulerService:
    settings = Settings(timezone="UTC", state_path=path)
    return SchedulerService(settings, store=Store.open(settings))


async def run_and_wait(service: SchedulerService, job_id: str) -> Execution:
    """Run ``job_id`` now; its final execution once the store has it (or failed to)."""
    finished: asyncio.Future[Execution] = asyncio.get_running_loop().create_future()
    started = service.run_job_now(job_id)

    def on_event(event: SchedulerEvent) -> None:
        e = event.execution
        if e is not None and e.id == started.id and e.status.is_final and not finished.done():
            finished.set_result(e)

    unsubscribe = service.subscribe(on_event)
    try:
        execution = await asyncio.wait_for(finished, 10)
    finally:
        unsubscribe()
    service.store.flush()
    return execution


# ------------------------------------------------------------------- any text is stored


async def test_output_and_errors_that_are_not_utf8_are_stored_visibly(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    service = make_service(path)
    service.register_job("bad_name", "tests.jobfuncs_store:undecodable_name", YEARLY)
    service.register_job("ok", "tests.jobfuncs_store:ok", YEARLY)
    service.start()
    try:
        bad = await run_and_wait(service, "bad_name")
        ok = await run_and_wait(service, "ok")
    finally:
        task = service.shutdown()
        if task is not None:
            await task
    assert bad.status is ExecutionStatus.FAILED
    reader = Store.open_path(path, read_only=True)
    try:
        stored = {e.id: e for e in reader.executions()}
    finally:
        reader.close()
    assert set(stored) == {bad.id, ok.id}, "a run was lost"
    kept = stored[bad.id]
    assert kept.status is ExecutionStatus.FAILED
    assert kept.output == "found report-\\udcff.csv\n"  # the rest of the text kept as it was
    assert kept.error == "FileNotFoundError: cannot read report-\\udcff.csv"
    assert kept.traceback is not None and "cannot read report-\\udcff.csv" in kept.traceback
    assert stored[ok.id].status is ExecutionStatus.SUCCEEDED
    assert stored[ok.id].output == "hello from ok\n"


def test_a_write_that_fails_costs_only_itself_and_the_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store, reports = reporting_store(path)
    try:
        odd = record(store, job_id=os.fsdecode(b"job-\xff"))  # an id no check refused
        store.prune(max_rows=2**64, max_age_days=1, now=NOW)  # beyond SQLite's integers
        after = record(store)
        store.flush()
        last = record(store)
        store.flush()
        assert stored_ids(path) == {odd.id: "job-\\udcff", after.id: "j", last.id: "j"}
        assert [r.failing for r in reports] == [True, False], reports
        failed = reports[0].message
        assert failed.startswith(f"state file {path}: pruning old history failed (OverflowError")
        assert "OverflowError" in failed
        assert reports[1].message.startswith(f"state file {path}: writes succeed again")
    finally:
        store.close()


# ----------------------------------------------------------------- failures are shown


def test_a_full_disk_is_reported_once_and_so_is_the_recovery(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store, reports = reporting_store(path)
    try:
        record(store)
        store.flush()
        with file_size_limit(path):
            lost = []
            for _ in range(3):
                lost.append(record(store, output="x" * 60_000))
                store.flush()
        assert len(reports) == 1, reports  # once, not once per write
        [report] = reports
        assert report.failing
        assert report.message == (
            f"state file {path}: writing execution #{lost[0].id} failed (disk I/O error); "
            "runs are not being kept until writes succeed again"
        )
        assert report.reason == "disk I/O error"
        # Nearly full: a small write fits, a run's output still does not. Not over yet.
        with file_size_limit(path, room=20_000):
            small = record(store)
            store.flush()
            lost.append(record(store, output="x" * 60_000))
            store.flush()
        assert len(reports) == 1, reports
        kept = record(store, output="x" * 60_000)
        store.flush()
        assert [r.failing for r in reports] == [True, False]
        assert reports[1].message.startswith(f"state file {path}: writes succeed again")
        ids = stored_ids(path)
        assert small.id in ids and kept.id in ids
        assert not any(e.id in ids for e in lost)
    finally:
        store.close()


@pytest.mark.parametrize("how", ["deleted", "replaced", "moved away and back"])
def test_a_state_file_deleted_or_replaced_while_in_use_is_reported(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "state.sqlite3"
    store, reports = reporting_store(path)
    try:
        record(store)
        store.flush()
        assert reports == []
        if how == "deleted":
            path.unlink()  # `rm state.sqlite3`
        elif how == "replaced":
            (tmp_path / "other").write_bytes(b"another file")
            os.replace(tmp_path / "other", path)
        else:
            path.rename(tmp_path / "aside")
        for _ in range(2):
            record(store)
            store.flush()
        assert len(reports) == 1, reports
        assert reports[0].failing
        assert reports[0].message.startswith(
            f"state file {path} was deleted or replaced while in use; runs are not being kept"
        )
        if how == "moved away and back":
            (tmp_path / "aside").rename(path)
            record(store)
            store.flush()
            assert [r.failing for r in reports] == [True, False]
            assert "back in place" in reports[1].message
    finally:
        store.close()


def test_a_state_file_deleted_before_anything_was_written_is_reported(tmp_path: Path) -> None:
    """The writer opens its connection at the first write; a file deleted before then must
    not be quietly made anew (its runs would go to a file nobody holds)."""
    path = tmp_path / "state.sqlite3"
    store, reports = reporting_store(path)
    try:
        path.unlink()
        record(store)
        store.flush()
        assert [r.failing for r in reports] == [True], reports
        assert "was deleted or replaced while in use" in reports[0].message
    finally:
        store.close()


def test_a_job_changing_the_working_directory_is_no_false_alarm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store, reports = reporting_store(Path("state.sqlite3"))  # relative, as the default is
    try:
        record(store)
        store.flush()
        (tmp_path / "elsewhere").mkdir()
        monkeypatch.chdir(tmp_path / "elsewhere")  # what os.chdir in a job does
        kept = record(store)
        store.flush()
        assert reports == []
        assert kept.id in stored_ids(tmp_path / "state.sqlite3")
    finally:
        store.close()


async def test_the_service_reports_a_failing_state_file_as_an_event_on_its_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    service = make_service(path)
    service.register_job("big", "tests.jobfuncs_store:big_output", YEARLY)
    service.register_job("ok", "tests.jobfuncs_store:ok", YEARLY)
    seen: list[tuple[EventKind, str, threading.Thread]] = []

    def on_event(event: SchedulerEvent) -> None:
        if event.kind in (EventKind.STATE_ERROR, EventKind.STATE_RECOVERED):
            seen.append((event.kind, event.message, threading.current_thread()))

    service.subscribe(on_event)
    service.start()
    try:
        await run_and_wait(service, "ok")
        with file_size_limit(path):
            lost = await run_and_wait(service, "big")
            await run_and_wait(service, "big")
            await until(lambda: seen)
        await asyncio.sleep(0.05)
        assert len(seen) == 1, seen
        kind, message, thread = seen[0]
        assert kind is EventKind.STATE_ERROR
        assert thread is threading.main_thread()  # subscribers are called on the loop
        assert message.startswith(f"state file {path}: writing execution #{lost.id} failed")
        await run_and_wait(service, "big")
        await until(lambda: len(seen) == 2)
        assert seen[1][0] is EventKind.STATE_RECOVERED
        assert seen[1][1].startswith(f"state file {path}: writes succeed again")
    finally:
        task = service.shutdown()
        if task is not None:
            await task


def test_a_library_user_who_subscribed_to_nothing_hears_it_on_stderr(tmp_path: Path) -> None:
    """Without subscribers, the service logs it, and the output capture installed on the
    root logger must not swallow that record."""
    path = tmp_path / "state.sqlite3"
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from jobs.core.service import SchedulerService
        from jobs.core.settings import Settings
        from jobs.core.store import Store

        async def main():
            settings = Settings(timezone="UTC", state_path={str(path)!r})
            service = SchedulerService(settings, store=Store.open(settings))
            service.register_job("ok", "tests.jobfuncs_store:ok", "0 0 1 1 *")
            service.start()
            await asyncio.sleep(0.1)
            os.remove(settings.state_path)
            service.run_job_now("ok")
            await asyncio.sleep(0.5)
            await service.shutdown()

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count(f"state file {path} was deleted or replaced while in use") == 1, (
        result.stderr
    )


# -------------------------------------------------------------- where the user looks


async def test_run_headless_says_on_stderr_that_the_state_file_was_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui import cli

    path = tmp_path / "state.sqlite3"
    service = make_service(path)
    service.register_job("ok", "tests.jobfuncs_store:ok", YEARLY)
    headless = asyncio.ensure_future(cli._run_headless(service))
    out, err = [], []

    def printed(text: str) -> bool:
        captured = capsys.readouterr()
        out.append(captured.out)
        err.append(captured.err)
        return text in "".join(out + err)

    await until(lambda: printed("jobconsole: running 1 job(s)"))  # its signal handlers are set
    try:
        path.unlink()
        await run_and_wait(service, "ok")
        await until(lambda: printed("was deleted or replaced"))
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # headless stops as on Ctrl-C
        assert await asyncio.wait_for(headless, 10) == 0
    printed("")
    assert [line for line in "".join(err).splitlines() if "state file" in line] == [
        f"jobconsole: state file {path} was deleted or replaced while in use; runs are not "
        "being kept (they go to the old file, gone once jobconsole exits); restart jobconsole "
        "to keep them again"
    ], err
    assert "ok  succeeded" in "".join(out)  # the run itself is reported as ever


async def test_the_console_shows_a_failing_state_file_in_the_log_and_status_until_it_recovers(
    tmp_path: Path,
) -> None:
    from tui.app import JobConsoleApp
    from tui.widgets import ExecutionLog, StatusBar

    path = tmp_path / "state.sqlite3"
    service = make_service(path)
    service.register_job("big", "tests.jobfuncs_store:big_output", YEARLY)
    service.register_job("ok", "tests.jobfuncs_store:ok", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=(120, 35), notifications=True) as pilot:
        log = app.query_one(ExecutionLog)

        def status() -> str:
            return str(app.query_one(StatusBar).render())

        await until(lambda: service.is_running)
        await run_and_wait(service, "ok")
        assert "runs not saved" not in status()
        with file_size_limit(path):
            lost = await run_and_wait(service, "big")
            await until(lambda: "runs not saved" in status())
            await run_and_wait(service, "big")  # still failing: said once
        await pilot.pause()
        failing = f"state file {path}: writing execution #{lost.id} failed (disk I/O error)"
        assert sum(failing in line for line in log.lines) == 1, log.lines
        assert "⚠ runs not saved: disk I/O error" in status()
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert any(failing in text for text in toasts), toasts
        await run_and_wait(service, "big")
        await until(lambda: "runs not saved" not in status())
        assert any(f"state file {path}: writes succeed again" in line for line in log.lines)


def test_a_state_event_is_one_line_naming_the_file_wherever_events_are_printed() -> None:
    from tui import plain_text

    event = SchedulerEvent(
        kind=EventKind.STATE_ERROR,
        at=NOW,
        message="state file /x/state.sqlite3: writing execution #12 failed (disk I/O error); "
        "runs are not being kept until writes succeed again",
        details={"reason": "disk I/O error"},
    )
    assert plain_text.event_line(event, UTC) == (
        "2026-03-04 12:00:30  state error  state file /x/state.sqlite3: writing execution #12 "
        "failed (disk I/O error); runs are not being kept until writes succeed again"
    )
