"""The strip of recent runs and the detail view's chart in a console attached to a real
``run --headless`` host (the harness of test_attach): the runs are asked for over the
control socket, and the ones that end later come as the host's events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs.core.control.remote import RemoteClient
from tests.test_attach import SIZE, Host, attached, until
from tests.test_lock import headless_env, registry
from tests.test_run_pictures import FAILED, OK, TOLD, strip_of
from tests.test_signals import kill_and_reap
from tui.screens import JobDetailScreen
from tui.widgets import JobTable

JOBS = (
    TOLD
    + """
REGISTERED_JOBS = [
    {"job_id": "told", "func": told, "cron_expression": "0 0 1 1 *"},
    {"job_id": "beta", "func": told, "cron_expression": "0 0 1 1 *"},
    {"job_id": "gamma", "func": told, "cron_expression": "0 0 1 1 *"},
]
"""
)


class ToldHost(Host):
    """A host whose ``told`` job fails while ``fail_file`` exists."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.module = registry(tmp_path, JOBS)
        self.env = headless_env(tmp_path, self.state, self.module)
        self.fail_file = tmp_path / "fail"


@pytest.fixture
async def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ToldHost]:
    monkeypatch.syspath_prepend(str(tmp_path))
    host = ToldHost(tmp_path)
    try:
        yield host
    finally:
        for headless in host.running:
            await kill_and_reap(headless)


async def run_told(client: RemoteClient, place: ToldHost, fail: bool) -> None:
    if fail:
        place.fail_file.touch()
    else:
        place.fail_file.unlink(missing_ok=True)
    before = (await client.get_job("told")).run_count
    await client.run_job_now("told")
    for _ in range(1500):
        job = await client.get_job("told")
        if job.run_count > before and job.state != "running":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("told did not end")


async def test_attached_the_strip_shows_the_host_s_runs_and_grows_as_each_ends(
    place: ToldHost,
) -> None:
    await place.start()
    other = await place.client()
    try:
        for fail in (False, True):
            await run_told(other, place, fail)
        app = await attached(place)
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(JobTable)
            await until(pilot, lambda: strip_of(table, "told") == OK + FAILED)
            assert strip_of(table, "beta") == ""
            await run_told(other, place, False)  # from another console: an event here
            await until(pilot, lambda: strip_of(table, "told") == OK + FAILED + OK)
            table.select("told")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
            screen = app.screen

            await until(pilot, lambda: "Last 3 runs  2 succeeded (67%) · 1 failed" in screen.text)
    finally:
        await other.stop()
