"""``list``, ``history`` and ``run --headless`` never write a job's control characters.

A description, an error or a job's output may hold ESC sequences (clear the screen, set
the window title, write the clipboard), BEL, or CR and newlines that would forge rows.
Each command runs as a subprocess; its stdout and stderr must carry none of them raw,
and show them escaped instead.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core.records import Execution, ExecutionStatus, Trigger
from jobs.core.store import Store
from tests.test_cli import Cli, _Headless

ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;aGk=\x07\x9b31m"
FORGED = "\rforged  0 0 * * *  scheduled\nfake  * * * * *  paused"

REGISTRY = f"""
def report():
    pass

async def hostile():
    print({ESCAPES!r} + "printed")
    raise RuntimeError({ESCAPES!r} + "raised" + {FORGED!r})

REGISTERED_JOBS = [
    {{
        "job_id": "report",
        "func": report,
        "cron_expression": "0 9 * * 1-5",
        "description": {("desc " + ESCAPES + FORGED)!r},
    }},
    {{"job_id": "hostile", "func": hostile, "cron_expression": "* * * * *"}},
    {{"job_id": "broken", "func": "hostile_broken:job", "cron_expression": "@daily"}},
]
"""


def raw_controls(text: str) -> list[str]:
    """Control characters other than the newlines that end a command's own lines."""
    return sorted({repr(c) for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0})


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    (tmp_path / "myjobs.py").write_text(REGISTRY)
    (tmp_path / "hostile_broken.py").write_text(f"raise ImportError({ESCAPES!r})\n")
    return Cli(tmp_path)


def test_list_shows_a_descriptions_escapes_and_forged_rows_visibly(cli: Cli) -> None:
    result = cli("list")
    assert result.returncode == 0, result.stderr
    assert raw_controls(result.stdout) == []
    assert raw_controls(result.stderr) == []
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # the header, report and hostile: no forged row
    report = next(line for line in lines if line.startswith("report"))
    assert report.endswith(
        "desc \\x1b]0;PWNED\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07\\x9b31m"
        "\\rforged  0 0 * * *  scheduled\\nfake  * * * * *  paused"
    )
    assert "broken" in result.stderr and "\\x1b]0;PWNED\\x07" in result.stderr


def test_history_shows_a_recorded_errors_escapes_visibly(cli: Cli) -> None:
    store = Store.open_path(cli.state)
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    number = store.next_execution_id()
    store.record_execution(
        Execution(
            id=number,
            job_id="hostile",
            status=ExecutionStatus.FAILED,
            scheduled_time=when,
            started_at=when,
            ended_at=when + timedelta(seconds=1),
            trigger=Trigger.SCHEDULE,
            error=f"RuntimeError: {ESCAPES}raised{FORGED}",
            output=ESCAPES,
        )
    )
    store.flush()
    store.close()
    result = cli("history")
    assert result.returncode == 0, result.stderr
    assert raw_controls(result.stdout) == []
    assert result.stdout.splitlines() == [
        f"#{number}  2026-01-02 03:04:00  hostile  failed  1.00s  RuntimeError: "
        "\\x1b]0;PWNED\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07\\x9b31mraised"
    ]


def test_run_headless_prints_a_jobs_escapes_visibly(cli: Cli) -> None:
    # The every-minute job fell due 30 s ago by the state file, so it runs at start-up.
    store = Store.open_path(cli.state)
    store.mark_alive(datetime.now(UTC) - timedelta(seconds=90))
    store.flush()
    store.close()
    headless = _Headless(cli, JOBCONSOLE_MISFIRE_GRACE_SECONDS="3600")
    failed = headless.wait_for(lambda line: line.split("  ")[1:3] == ["hostile", "failed"])
    code, lines, err = headless.stop(signal.SIGTERM)
    assert code == 0, err
    assert raw_controls("\n".join(lines)) == []
    assert raw_controls(err) == []
    assert failed.endswith(
        "RuntimeError: \\x1b]0;PWNED\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07\\x9b31mraised"
    )
    assert "broken" in err and "\\x1b]0;PWNED\\x07" in err
