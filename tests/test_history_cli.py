"""``jobconsole history [JOB_ID] [--limit N] [--failed]`` as a user runs it: a subprocess.

The state file is filled through the Store API; the command runs in ``tmp_path`` with a
tiny registry of its own, so the example registry's jobs never come into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.core.records import Execution, ExecutionStatus, Trigger
from jobs.core.store import Store

REPO = Path(__file__).resolve().parents[1]
JOBCONSOLE = Path(sys.executable).with_name("jobconsole")
BASE = datetime(2026, 1, 2, 3, 4, 0, tzinfo=UTC)

OK, FAILED, TIMED_OUT, INTERRUPTED = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.INTERRUPTED,
)
# (job, status, seconds it ran, error), oldest first; one per minute from BASE.
PLAN = [
    ("alpha", OK, 1.5, None),
    ("beta", FAILED, 2.25, "ValueError: bad input\nmore detail on the second line"),
    ("alpha", TIMED_OUT, 30.0, "TimeoutError: timed out after 30s"),
    ("beta", OK, 0.5, None),
    ("alpha", FAILED, 75.0, "RuntimeError: partner API down\n  while syncing"),
    ("beta", INTERRUPTED, 4.0, "interrupted: jobconsole stopped while this ran"),
    ("alpha", OK, 12.0, None),
]


@dataclass
class Env:
    cwd: Path
    state: Path
    env: dict[str, str]

    def run(self, *args: str, command: str = "history") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(JOBCONSOLE), command, *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )


def make_env(tmp_path: Path, state: Path) -> Env:
    registry = f"history_registry_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{registry}.py").write_text(
        "def tick():\n    pass\n\n"
        'REGISTERED_JOBS = [{"job_id": "tick", "func": tick, "cron_expression": "0 0 1 1 *"}]\n'
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JOBCONSOLE_") and k != "BACKGROUND_JOBS_ENABLED"
    }
    env.update(
        JOBCONSOLE_STATE=str(state),
        JOBCONSOLE_REGISTRY=registry,
        JOBCONSOLE_TIMEZONE="UTC",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{REPO}",
    )
    return Env(tmp_path, state, env)


def fill(store: Store) -> list[Execution]:
    executions = []
    for minute, (job_id, status, seconds, error) in enumerate(PLAN):
        scheduled = BASE + timedelta(minutes=minute)
        started = scheduled + timedelta(seconds=1)
        execution = Execution(
            id=store.next_execution_id(),
            job_id=job_id,
            status=status,
            scheduled_time=scheduled,
            started_at=started,
            ended_at=started + timedelta(seconds=seconds),
            trigger=Trigger.SCHEDULE,
            error=error,
            traceback=f"Traceback (most recent call last):\n{error}\n" if error else None,
        )
        # Written as the service does: when it starts, then when it ends.
        store.record_execution(
            Execution(
                id=execution.id,
                job_id=job_id,
                status=ExecutionStatus.RUNNING,
                scheduled_time=scheduled,
                started_at=started,
            )
        )
        store.record_execution(execution)
        executions.append(execution)
    store.flush()
    return executions


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Env, list[Execution]]:
    state = tmp_path / "state" / "state.sqlite3"
    store = Store.open_path(state)
    try:
        executions = fill(store)
    finally:
        store.close()
    return make_env(tmp_path, state), executions


def parse(stdout: str) -> list[list[str]]:
    """Each line's fields after its ``#N``: start time, job, status, duration[, first line
    of the error]."""
    return [line.split("  ")[1:] for line in stdout.splitlines()]


def ids(stdout: str) -> list[str]:
    return [line.split("  ")[0] for line in stdout.splitlines()]


def expected_fields(e: Execution) -> list[str]:
    assert e.started_at is not None
    fields = [e.started_at.strftime("%Y-%m-%d %H:%M:%S"), e.job_id, str(e.status)]
    seconds = e.duration
    assert seconds is not None
    fields.append(
        f"{seconds:.2f}s"
        if seconds < 10
        else f"{seconds:.1f}s"
        if seconds < 60
        else f"{int(seconds // 60)}m {round(seconds % 60)}s"
    )
    if e.error:
        fields.append(e.error.splitlines()[0])
    return fields


def test_all_newest_first_with_time_job_status_duration_and_first_error_line(
    filled: tuple[Env, list[Execution]],
) -> None:
    env, executions = filled
    result = env.run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = parse(result.stdout)
    assert rows == [expected_fields(e) for e in reversed(executions)]
    # Concretely, for the failed beta run: the first line of the error only.
    assert ["2026-01-02 03:05:01", "beta", "failed", "2.25s", "ValueError: bad input"] in rows
    assert "second line" not in result.stdout
    assert "Traceback" not in result.stdout
    assert rows[2][:4] == ["2026-01-02 03:08:01", "alpha", "failed", "1m 15s"]
    assert ids(result.stdout) == [f"#{e.id}" for e in reversed(executions)]


def test_the_times_printed_go_back_steadily_even_when_a_long_run_ends_after_the_next_starts(
    filled: tuple[Env, list[Execution]],
) -> None:
    env, executions = filled
    long_run, next_run = executions[4], executions[5]
    assert long_run.ended_at > next_run.ended_at, "the plan has a run outlasting the next one"
    result = env.run()
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    times = [row[0] for row in rows]
    assert times == sorted(times, reverse=True), times
    # The long run is listed where it started, its duration saying when it ended.
    assert rows[1][:4] == ["2026-01-02 03:09:01", "beta", "interrupted", "4.00s"]
    assert rows[2][:4] == ["2026-01-02 03:08:01", "alpha", "failed", "1m 15s"]


def test_job_filter(filled: tuple[Env, list[Execution]]) -> None:
    env, executions = filled
    result = env.run("beta")
    assert result.returncode == 0, result.stderr
    assert parse(result.stdout) == [
        expected_fields(e) for e in reversed(executions) if e.job_id == "beta"
    ]


def test_limit_keeps_the_newest(filled: tuple[Env, list[Execution]]) -> None:
    env, executions = filled
    result = env.run("--limit", "2")
    assert result.returncode == 0, result.stderr
    assert parse(result.stdout) == [expected_fields(e) for e in executions[::-1][:2]]


def test_failed_filter_lists_failed_timed_out_and_interrupted(
    filled: tuple[Env, list[Execution]],
) -> None:
    env, executions = filled
    result = env.run("--failed")
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    assert rows == [expected_fields(e) for e in reversed(executions) if e.status.is_failure]
    assert {row[2] for row in rows} == {"failed", "timed out", "interrupted"}


def test_filters_combine(filled: tuple[Env, list[Execution]]) -> None:
    env, executions = filled
    result = env.run("alpha", "--failed", "--limit", "1")
    assert result.returncode == 0, result.stderr
    newest_failed_alpha = next(
        e for e in reversed(executions) if e.job_id == "alpha" and e.status.is_failure
    )
    assert parse(result.stdout) == [expected_fields(newest_failed_alpha)]


def test_unknown_job_or_no_failures_say_so_and_exit_0(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    store = Store.open_path(state)
    try:
        ok = Execution(
            id=store.next_execution_id(),
            job_id="alpha",
            status=OK,
            scheduled_time=BASE,
            started_at=BASE,
            ended_at=BASE + timedelta(seconds=1),
        )
        store.record_execution(ok)
    finally:
        store.close()
    env = make_env(tmp_path, state)
    result = env.run("nosuch")
    assert (result.returncode, result.stdout) == (0, "no executions recorded for 'nosuch'\n")
    result = env.run("--failed")
    assert (result.returncode, result.stdout) == (0, "no failed executions recorded\n")


def test_no_state_file_is_a_friendly_message_and_exit_0(tmp_path: Path) -> None:
    state = tmp_path / "never" / "state.sqlite3"
    env = make_env(tmp_path, state)
    result = env.run()
    assert result.returncode == 0, result.stderr
    assert "no history yet" in result.stdout
    assert str(state) in result.stdout
    assert result.stderr == ""
    assert not state.exists(), "reading history must not create the state file"
    assert not state.parent.exists()


@pytest.mark.parametrize("limit", ["0", "-3", "ten", "99999999999999999999999"])
def test_bad_limit_exits_2_naming_the_value(
    filled: tuple[Env, list[Execution]], limit: str
) -> None:
    env, _ = filled
    result = env.run("--limit", limit)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--limit" in result.stderr
    assert repr(limit) in result.stderr


def test_history_reads_while_a_scheduler_holds_the_file(
    filled: tuple[Env, list[Execution]],
) -> None:
    env, executions = filled
    writer = Store.open_path(env.state)  # as a running console or `run --headless` would
    try:
        result = env.run("--limit", "1")
    finally:
        writer.close()
    assert result.returncode == 0, result.stderr
    assert parse(result.stdout) == [expected_fields(executions[-1])]


def test_corrupt_state_file_exits_2_naming_it_and_leaves_it(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    garbage = b"SQLite format 3\x00" + b"this is no database\n" * 100
    state.write_bytes(garbage)
    env = make_env(tmp_path, state)
    result = env.run()
    assert result.returncode == 2
    assert str(state) in result.stderr
    assert "--reset-state" in result.stderr
    assert state.read_bytes() == garbage


# ------------------------------------------------------------------ show N


def test_show_prints_one_execution_whole_with_its_output_and_traceback(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    store = Store.open_path(state)
    output = "".join(f"line {n}\n" for n in range(1, 501)) + "\x1b]0;pwned\x07 end\n"
    try:
        execution = Execution(
            id=store.next_execution_id(),
            job_id="beta",
            status=FAILED,
            scheduled_time=BASE,
            started_at=BASE + timedelta(seconds=2.5),
            ended_at=BASE + timedelta(seconds=14),
            error="ValueError: bad input",
            traceback=(
                'Traceback (most recent call last):\n  File "x.py", line 3\nValueError: bad input\n'
            ),
            output=output,
            warnings=("it printed a lot",),
        )
        store.record_execution(execution)
        store.flush()
    finally:
        store.close()
    env = make_env(tmp_path, state)

    by_hash = env.run(f"#{execution.id}", command="show")
    assert by_hash.returncode == 0, by_hash.stderr
    shown = by_hash.stdout
    assert shown.startswith(f"execution #{execution.id}\n")
    for fact in (
        "job       beta",
        "status    failed",
        "started   2026-01-02 03:04:02",
        "ended     2026-01-02 03:04:14",
        "took      11.5s",
        "late      2.50s",
        "error     ValueError: bad input",
        "warning   it printed a lot",
    ):
        assert f"  {fact}\n" in shown
    # The whole output, not the first 200 lines; its escape sequence shown, not obeyed.
    assert "line 1\n" in shown and "line 500\n" in shown
    assert "\x1b" not in shown and "\\x1b]0;pwned\\x07 end" in shown
    assert shown.rstrip().endswith("ValueError: bad input")
    assert env.run(str(execution.id), command="show").stdout == shown


def test_show_of_an_unknown_or_bad_number_exits_2_naming_it(
    filled: tuple[Env, list[Execution]],
) -> None:
    env, _ = filled
    missing = env.run("999", command="show")
    assert missing.returncode == 2
    assert "no execution #999 is recorded in" in missing.stderr
    assert "Traceback" not in missing.stderr
    for bad in ("abc", "0", "-3", "#", "1.5"):
        result = env.run(bad, command="show")
        assert result.returncode == 2, bad
        assert "is not an execution number" in result.stderr, (bad, result.stderr)


def test_show_without_a_state_file_exits_2(tmp_path: Path) -> None:
    env = make_env(tmp_path, tmp_path / "none" / "state.sqlite3")
    result = env.run("1", command="show")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not env.state.exists()
