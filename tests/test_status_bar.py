"""The status line says where the jobs are kept (the state file, or memory only) and fits
its width: the path is shortened first, the state and the counts are never cut."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.core.client import LocalClient
from tests.conftest import ServiceFactory
from tests.test_app import status_text
from tui.app import JobConsoleApp
from tui.widgets.status_bar import MEMORY_ONLY, SchedulerState, Status, render_status

YEARLY = "0 0 1 1 *"
COUNTS = "10,000 jobs · 3 running · 12 paused · 2 failed (1h)"


def status(**given: object) -> Status:
    values: dict[str, object] = {
        "state": SchedulerState.RUNNING,
        "timezone": "Europe/London",
        "now": datetime(2026, 11, 30, 9, 30, 15, tzinfo=UTC),
        "jobs": 10_000,
        "shown": 10_000,
        "running": 3,
        "paused": 12,
        "failures_last_hour": 2,
    }
    values.update(given)
    return Status(**values)  # type: ignore[arg-type]


def line(width: int | None, **given: object) -> str:
    text = render_status(status(**given), width)
    assert width is None or text.cell_length <= width, text.plain
    return text.plain


# The widths inside the line's padding at 80, 120 and 200 columns.
NARROW, MIDDLE, WIDE = 78, 118, 198


def test_the_state_file_is_shortened_as_the_line_narrows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/ada")
    path = "/home/ada/projects/billing/.jobconsole/state.sqlite3"
    assert line(WIDE, state_file=path) == (
        f"● running │ ~/projects/billing/.jobconsole/state.sqlite3 │ Europe/London 09:30:15 │ "
        f"{COUNTS}"
    )
    assert line(MIDDLE, state_file=path) == (
        f"● running │ …/.jobconsole/state.sqlite3 │ Europe/London 09:30:15 │ {COUNTS}"
    )
    few = "50 jobs · 3 running · 12 paused · 2 failed (1h)"
    assert line(NARROW, state_file=path, jobs=50, shown=50) == f"● running │ state.sqlite3 │ {few}"
    # A character short: the name is cut, not the counts.
    assert line(NARROW, state_file=path) == f"● running │ state.sqlit… │ {COUNTS}"
    assert line(None, state_file="/srv/jobs/state.sqlite3").startswith(
        "● running │ /srv/jobs/state.sqlite3 │ "  # outside the home directory: as it is
    )


def test_memory_only_is_said_and_the_counts_are_never_cut() -> None:
    assert line(WIDE, state_file=MEMORY_ONLY) == (
        f"● running │ memory only │ Europe/London 09:30:15 │ {COUNTS}"
    )
    assert line(NARROW, state_file=MEMORY_ONLY) == f"● running │ memory only │ {COUNTS}"
    for width in (NARROW, MIDDLE, WIDE):
        for given in (
            {"state_file": "/var/lib/a-very-long-folder-name/of-jobs/state.sqlite3"},
            {"host": "attached to pid 4242 (run --headless), read-only", "state_file": "/x/y"},
            {"note": "handing the jobs to the scheduler", "state_file": MEMORY_ONLY},
            {"state_error": "state file /x: write failed (disk I/O error); runs are not kept"},
        ):
            assert line(width, **given).endswith(COUNTS), (width, given)


def test_a_long_host_keeps_its_words_before_the_file_keeps_its_name() -> None:
    host = "attached to pid 4242 (run --headless), read-only"
    assert line(MIDDLE, host=host, state_file="/srv/state.sqlite3") == (
        f"● running │ {host} │ {COUNTS}"
    )
    assert line(WIDE, host=host, state_file="/srv/state.sqlite3") == (
        f"● running │ {host} │ /srv/state.sqlite3 │ Europe/London 09:30:15 │ {COUNTS}"
    )
    cut = line(NARROW, host=host, state_file="/srv/state.sqlite3")
    assert cut.startswith("● running │ attached to") and "…" in cut


def test_a_state_error_is_flagged_when_its_words_do_not_fit() -> None:
    error = "state file /srv/state.sqlite3: write failed (disk I/O error); runs are not kept"
    assert f"⚠ runs not saved: {error}" in line(WIDE, state_error=error)
    assert line(NARROW, state_error=error, state_file="/srv/state.sqlite3") == (
        f"● running ⚠ not saved │ {COUNTS}"
    )


@pytest.mark.parametrize(
    ("size", "shown"), [((80, 24), "name"), ((120, 35), "tail"), ((200, 50), "home")]
)
async def test_the_console_names_its_state_file_at_each_size(
    durable: ServiceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    shown: str,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "clients" / "a-long-project-folder" / "jobs"
    folder.mkdir(parents=True)
    service = durable(state_path=folder / "state.sqlite3")
    service.register_job("alpha", "tests.jobfuncs:quick", YEARLY)
    app = JobConsoleApp(LocalClient(service))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = status_text(app)
        expected = {
            "name": " │ state.sqlite3 │ ",
            "tail": " │ …/jobs/state.sqlite3 │ UTC ",
            "home": " │ ~/clients/a-long-project-folder/jobs/state.sqlite3 │ UTC ",
        }[shown]
        assert expected in text, text
        assert text.endswith("1 job · 0 running · 0 paused · 0 failed (1h)")
        assert len(text) <= size[0] - 2


async def test_a_console_without_a_state_file_says_memory_only(make: ServiceFactory) -> None:
    app = JobConsoleApp(LocalClient(make()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert status_text(app) == (
            "● running │ memory only │ UTC │ 0 jobs · 0 running · 0 paused · 0 failed (1h)"
        )  # at 80 columns the clock gives way first
