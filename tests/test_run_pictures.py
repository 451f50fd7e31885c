"""The table's strip of recent runs and the detail view's chart, from the store to the
screen: the stores' answer (the SQLite file and memory alike), the control API's route,
and the real console driven by Pilot on a real service. Attached: test_run_pictures_attached."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

from jobs.core.client import LocalClient
from jobs.core.control.remote import RemoteClient
from jobs.core.memory_store import MemoryStore
from jobs.core.records import Execution, ExecutionStatus, JobState
from jobs.core.service import SchedulerService
from jobs.core.settings import Settings
from jobs.core.state_store import StateStore
from jobs.core.store import Store
from tests.test_control_api import client, host, http, runtime_dir  # noqa: F401 (fixtures)
from tests.test_lock import registry
from tui.app import JobConsoleApp
from tui.job_model import COLUMN_KEYS
from tui.screens import JobDetailScreen
from tui.status_style import GLYPH
from tui.widgets import JobTable

SIZE = (120, 35)
YEARLY = "0 0 1 1 *"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OK, FAILED = GLYPH[ExecutionStatus.SUCCEEDED], GLYPH[ExecutionStatus.FAILED]

#: A job that fails while a file named "fail" lies beside its module, so a test (or a
#: host in another process) decides each run's outcome.
TOLD = """
from pathlib import Path

def told():
    if (Path(__file__).parent / "fail").exists():
        raise RuntimeError("told to fail")
    print("told to succeed")
"""


def strip_of(table: JobTable, job_id: str) -> str:
    """The strip of recent runs as the job's row draws it now."""
    row = table.model.row_of(job_id)
    assert row is not None, f"{job_id} has no row"
    line = table.render_line(row + 1 - round(table.scroll_y))
    index = COLUMN_KEYS.index("strip")
    start = table._offsets[index] - round(table.scroll_x)
    return line.text[start : start + table._widths[index]].strip()


async def until(pilot: Pilot, condition: Callable[[], object], timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


async def ended(service: SchedulerService, job_id: str, runs: int) -> None:
    for _ in range(1000):
        job = service.get_job(job_id)
        if job.run_count >= runs and job.state is not JobState.RUNNING:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{job_id} did not end run {runs}")


# ---------------------------------------------------------------- the stores


def execution(n: int, job_id: str, status: ExecutionStatus, **kw: Any) -> Execution:
    due = T0 + timedelta(minutes=n)
    started = due + timedelta(milliseconds=5)
    values: dict[str, Any] = {"started_at": started, "output": f"run {n} printed this"}
    if status is not ExecutionStatus.RUNNING:
        values["ended_at"] = started + timedelta(seconds=n)
    values.update(kw)
    return Execution(n, job_id, status, due, error="x" * 10, traceback="tb", **values)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    opened = Store.open(Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3"))
    yield opened
    opened.close()


def test_each_job_s_newest_finished_runs_come_in_one_answer_without_their_text(
    store: StateStore,
) -> None:
    statuses = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.MISSED]
    for n in range(1, 10):
        store.record_execution(execution(n, "a" if n % 2 else "b", statuses[n % 3]))
    store.record_execution(execution(10, "b", ExecutionStatus.RUNNING))
    store.flush()
    found = store.recent_runs(["a", "b", "nobody", "a"], 3)
    assert list(found) == ["a", "b", "nobody"]
    assert [e.id for e in found["a"]] == [9, 7, 5]  # newest first
    assert [e.id for e in found["b"]] == [8, 6, 4]  # the running one has not ended
    assert found["nobody"] == []
    newest = found["a"][0]
    assert (newest.status, newest.duration, newest.lateness) == (
        ExecutionStatus.SUCCEEDED,
        9.0,
        0.005,
    )
    every = [e for runs in found.values() for e in runs]
    assert all(e.output == "" and e.error is None and e.traceback is None for e in every)


# ------------------------------------------------------------ the control API


async def test_the_runs_route_answers_what_the_service_does_and_refuses_bad_bodies(
    host: SchedulerService,  # noqa: F811
    client: RemoteClient,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    host.run_job_now("yearly")
    await ended(host, "yearly", 1)
    host._store.flush()
    answer = await client.recent_runs(["yearly", "nobody"], 5)
    assert answer == host.recent_runs(["yearly", "nobody"], 5)
    assert [e.status for e in answer["yearly"]] == [ExecutionStatus.SUCCEEDED]
    assert answer["yearly"][0].output == "" and answer["nobody"] == []

    async def refused(body: Any) -> tuple[int, str, str]:
        async with http.post("/runs", json=body) as response:
            found = await response.json()
            return response.status, found["field"], found["message"]

    assert await refused({"limit": 5}) == (
        400,
        "jobs",
        'the body\'s "jobs" is missing; expected a list of at most 1000 job ids',
    )
    assert (await refused({"jobs": "yearly"}))[:2] == (400, "jobs")
    assert (await refused({"jobs": [1, 2]}))[:2] == (400, "jobs")
    assert (await refused({"jobs": ["x"] * 1001}))[:2] == (400, "jobs")
    assert await refused({"jobs": ["yearly"], "limit": 0}) == (
        400,
        "limit",
        'the body\'s "limit" is 0; expected a whole number from 1 to 100',
    )
    assert (await refused({"jobs": ["yearly"], "limit": True}))[:2] == (400, "limit")


# ------------------------------------------------------------ the console


@pytest.fixture
def told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """The ``told`` job's reference, and the file whose presence makes it fail."""
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{registry(tmp_path, TOLD)}:told", tmp_path / "fail"


async def run_told(
    service: SchedulerService, fail_file: Path, fail: bool, job_id: str = "told"
) -> None:
    if fail:
        fail_file.touch()
    else:
        fail_file.unlink(missing_ok=True)
    runs = service.get_job(job_id).run_count
    service.run_job_now(job_id)
    await ended(service, job_id, runs + 1)


async def test_the_strip_shows_the_last_runs_in_order_and_grows_as_each_ends(
    service: SchedulerService, told: tuple[str, Path]
) -> None:
    func, fail_file = told
    service.register_job("told", func, YEARLY)
    service.register_job("quiet", func, YEARLY)
    service.start()
    for fail in (False, True, False):
        await run_told(service, fail_file, fail)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: strip_of(table, "told") == OK + FAILED + OK)
        assert strip_of(table, "quiet") == ""  # no run yet
        await run_told(service, fail_file, True)
        await until(pilot, lambda: strip_of(table, "told") == OK + FAILED + OK + FAILED)
        for _ in range(8):
            await run_told(service, fail_file, False)
        # Ten cells: the two oldest runs have gone off the left.
        await until(pilot, lambda: strip_of(table, "told") == OK + FAILED + OK * 8)


async def test_a_narrow_console_keeps_the_strip_and_names_the_last_status_there(
    service: SchedulerService, told: tuple[str, Path]
) -> None:
    func, fail_file = told
    job_id = "cleanup_expired_tokens"  # an id of 22 and "*/5 * * * *": no room for both
    service.register_job(job_id, func, "*/5 * * * *")
    service.start()
    await run_told(service, fail_file, True, job_id)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(JobTable)
        await until(pilot, lambda: strip_of(table, job_id) == FAILED)
        assert table._widths[COLUMN_KEYS.index("status")] == 0  # the strip says it
        assert table._widths[COLUMN_KEYS.index("id")] == len(job_id)  # whole


async def test_the_detail_view_charts_the_durations_and_gives_the_figures(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    took = [1.0, 2.0, 3.0, 4.0, 10.0]
    for n, seconds in enumerate(took):
        status = ExecutionStatus.FAILED if n == 2 else ExecutionStatus.SUCCEEDED
        due = T0 + timedelta(minutes=n)
        started = due + timedelta(milliseconds=10 * (n + 1))
        store.record_execution(
            Execution(n + 1, "job", status, due, started, started + timedelta(seconds=seconds))
        )
    store.record_execution(Execution(6, "job", ExecutionStatus.MISSED, T0 + timedelta(hours=1)))
    settings = Settings(timezone="UTC", state_path=tmp_path / "state.sqlite3")
    service = SchedulerService(settings, store=store)
    service.register_job("job", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        screen = app.screen
        assert isinstance(screen, JobDetailScreen)
        await until(pilot, lambda: "Last 6 runs" in screen.text)
        text = screen.text
        for figure in (
            "4 succeeded (80%) · 1 failed · 1 missed",
            "took p50 3.00s · p95 8.80s",
            "30 ms late on average",
        ):
            assert figure in text
        assert screen.query_one(Sparkline).data == tuple(took)  # oldest first
        axis = str(screen.query_one("#trend-axis").render()).split("\n")
        assert (axis[0].strip(), axis[-1].strip()) == ("10.0s", "1.00s")


async def test_a_job_without_runs_has_no_chart_and_says_so(service: SchedulerService) -> None:
    service.register_job("job", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        screen = app.screen
        assert "Last runs  none yet" in screen.text
        assert not screen.query_one("#trend").display


async def test_a_run_from_the_detail_view_joins_its_chart(
    service: SchedulerService, told: tuple[str, Path]
) -> None:
    func, fail_file = told
    service.register_job("told", func, YEARLY)
    service.start()
    await run_told(service, fail_file, False)
    app = JobConsoleApp(LocalClient(service), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        screen = app.screen
        await until(pilot, lambda: "Last run  1 succeeded (100%)" in screen.text)
        fail_file.touch()
        await pilot.press("t")
        await until(pilot, lambda: "Last 2 runs  1 succeeded (50%) · 1 failed" in screen.text)
        assert len(screen.query_one(Sparkline).data or ()) == 2
        assert "late on average" not in screen.text  # runs now are never late
