"""The ``jobconsole`` command as a user runs it: a subprocess of the installed package.

Each command runs in ``tmp_path`` with a small registry module of its own (``myjobs.py``),
the state file in ``tmp_path`` and no jobconsole setting inherited from the environment.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.core.settings import KEYS

REGISTRY = """
async def tick():
    print("tick")

def report():
    print("report")

REGISTERED_JOBS = [
    {"job_id": "tick", "func": tick, "cron_expression": "* * * * *"},
    {
        "job_id": "weekday_report",
        "func": "myjobs:report",
        "cron_expression": "0 9 * * 1-5",
        "description": "The weekday report",
    },
    {"job_id": "dormant", "func": tick, "cron_expression": "@daily", "enabled": False},
]
"""

WEEKDAYS_2026 = ["11-30", "12-01", "12-02", "12-03", "12-04"]


class Cli:
    """Runs ``python -m tui ...`` in a prepared directory."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.state = cwd / "state.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k not in KEYS}
        self.env.update(
            JOBCONSOLE_STATE=str(self.state),
            JOBCONSOLE_REGISTRY="myjobs",
            JOBCONSOLE_TIMEZONE="UTC",
            COLUMNS="200",
            PYTHONPATH=str(cwd),
        )

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tui", *args]

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    (tmp_path / "myjobs.py").write_text(REGISTRY)
    return Cli(tmp_path)


def _usage_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, f"{text!r} not in {result.stderr!r}"


# ------------------------------------------------------------------ cron


def test_cron_prints_the_description_then_the_next_five_times(cli: Cli) -> None:
    result = cli("cron", "0 9 * * 1-5", "--after", "2026-11-29T00:00", "--tz", "UTC")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "At 09:00 AM, Monday through Friday",
        *[f"2026-{day}T09:00:00+00:00" for day in WEEKDAYS_2026],
    ]


def test_cron_count(cli: Cli) -> None:
    result = cli(
        "cron", "0 9 * * 1-5", "--after", "2026-11-29T00:00", "--tz", "UTC", "--count", "3"
    )
    assert result.stdout.splitlines()[1:] == [
        f"2026-{day}T09:00:00+00:00" for day in WEEKDAYS_2026[:3]
    ]


def test_cron_a_naive_after_is_local_time_in_the_zone(cli: Cli) -> None:
    result = cli("cron", "0 9 * * 1-5", "--after", "2026-11-29T00:00", "--tz", "America/New_York")
    assert result.returncode == 0
    assert result.stdout.splitlines()[1:] == [f"2026-{day}T09:00:00-05:00" for day in WEEKDAYS_2026]


def test_cron_times_are_strictly_after_and_an_aware_after_is_converted(cli: Cli) -> None:
    at_nine = cli(
        "cron", "0 9 * * 1-5", "--after", "2026-11-30T09:00", "--tz", "UTC", "--count", "1"
    )
    assert at_nine.stdout.splitlines()[1:] == ["2026-12-01T09:00:00+00:00"]
    # 08:59 UTC is 03:59 in New York, so Monday's 09:00 there is still ahead.
    aware = cli(
        "cron", "0 9 * * 1-5", "--after", "2026-11-30T08:59:00+00:00",
        "--tz", "America/New_York", "--count", "1",
    )  # fmt: skip
    assert aware.stdout.splitlines()[1:] == ["2026-11-30T09:00:00-05:00"]


def test_cron_uses_the_configured_zone_without_tz(cli: Cli) -> None:
    result = cli(
        "cron", "@daily", "--after", "2026-06-01T12:00", "--count", "2",
        JOBCONSOLE_TIMEZONE="Asia/Tokyo",
    )  # fmt: skip
    assert result.stdout.splitlines() == [
        "At 12:00 AM",
        "2026-06-02T00:00:00+09:00",
        "2026-06-03T00:00:00+09:00",
    ]


def test_cron_without_after_starts_from_now(cli: Cli) -> None:
    result = cli("cron", "* * * * *", "--tz", "UTC", "--count", "2")
    assert result.returncode == 0
    first, second = result.stdout.splitlines()[1:]
    assert first.endswith(":00+00:00") and second.endswith(":00+00:00")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "invalid cron expression '61 * * * *': minute field: 61 is out of range"),
        ("0 9 * * mon-fry", "day-of-week field: 'fry' is not"),
        ("0 0 30 2 *", "can never fire"),
        ("* * *", "expected 5 fields"),
    ],
)
def test_cron_a_bad_expression_is_one_line_on_stderr_and_exit_2(
    cli: Cli, expression: str, message: str
) -> None:
    result = cli("cron", expression, "--tz", "UTC")
    _usage_error(result, message)
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Olympus"], "--tz: unknown time zone 'Mars/Olympus'"),
        (["--after", "next tuesday"], "--after 'next tuesday' is not an ISO-8601 date-time"),
        (["--count", "0"], "argument --count: '0' must be from 1 to 1,000"),
        (["--count", "5000"], "argument --count: '5000' must be from 1 to 1,000"),
        (["--count", "many"], "argument --count: 'many' is not a whole number"),
    ],
)
def test_cron_bad_options_exit_2_with_a_message(cli: Cli, args: list[str], message: str) -> None:
    _usage_error(cli("cron", "@daily", *args), message)


def test_cron_near_the_end_of_the_calendar_prints_the_times_there_are(cli: Cli) -> None:
    result = cli("cron", "0 9 * * *", "--after", "9999-12-30T00:00", "--tz", "UTC")
    assert result.returncode == 0
    assert result.stdout.splitlines()[1:] == [
        "9999-12-30T09:00:00+00:00",
        "9999-12-31T09:00:00+00:00",
    ]
    assert result.stderr == (
        "jobconsole: only 2 of the 5 fire times asked for: dates end with the year 9999\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--after", "9999-12-31T23:59", "--tz", "UTC"],
        ["--after", "9999-12-31T23:59+14:00", "--tz", "UTC"],
        ["--after", "9999-12-31T23:00-12:00", "--tz", "UTC"],  # the year 10000 in UTC
        ["--after", "9999-12-31T23:00", "--tz", "Etc/GMT+12"],
        ["--after", "9999-12-31T12:00+00:00", "--tz", "Pacific/Kiritimati"],  # 10000 there
    ],
)
def test_cron_with_no_fire_time_left_in_the_calendar_says_so(cli: Cli, args: list[str]) -> None:
    result = cli("cron", "0 9 * * *", *args)
    _usage_error(result, "no fire time of '0 9 * * *' after ", "dates end with the year 9999")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--after", "0001-01-01T00:00", "--tz", "Pacific/Kiritimati"],
        ["--after", "0001-01-01T00:00", "--tz", "Asia/Tokyo"],  # printed nothing, exit 0
        ["--after", "0001-01-01T00:00+14:00", "--tz", "UTC"],  # the year 0 in UTC
        ["--after", "0001-01-01T23:59", "--tz", "UTC"],
    ],
)
def test_cron_too_near_the_start_of_the_calendar_is_refused(cli: Cli, args: list[str]) -> None:
    result = cli("cron", "0 9 * * *", *args)
    _usage_error(
        result,
        f"--after {args[1]!r} is too near the start of the calendar",
        "expected a date-time from 0001-01-02T00:00 UTC on",
    )
    assert result.stderr.count("\n") == 1


def test_cron_from_the_first_day_the_calendar_allows(cli: Cli) -> None:
    result = cli("cron", "0 9 * * *", "--after", "0001-01-02T00:00", "--tz", "UTC")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1] == "0001-01-02T09:00:00+00:00"
    result = cli("cron", "0 9 * * *", "--after", "0001-01-03T00:00", "--tz", "Asia/Tokyo")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1] == "0001-01-03T09:00:00+09:18:59"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--after", ""], "--after '' is empty; expected an ISO-8601 date-time"),
        (["--after", "  "], "--after '  ' is empty; expected an ISO-8601 date-time"),
        (["--tz", ""], "--tz: unknown time zone ''"),
        (["--tz", " "], "--tz: unknown time zone ' '"),
    ],
)
def test_cron_an_empty_after_or_tz_is_refused_not_ignored(
    cli: Cli, args: list[str], message: str
) -> None:
    _usage_error(cli("cron", "@daily", *args), message)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("٣ * * * *", "minute field: '٣' is not a number; expected ASCII digits 0-59"),
        ("* ३ * * *", "hour field: '३' is not a number; expected ASCII digits 0-23"),
        ("0 0 \uff11 * *", "day-of-month field: '\uff11' is not a number; expected ASCII"),
        ("0 0 * ² *", "month field: '²' is not a number; expected ASCII digits 1-12"),
        ("*/² * * * *", "minute field: step '²' in '*/²' is not a whole number"),
        ("99999999999999999999 * * * *", "99999999999999999999 is out of range 0-59"),
        ("1" * 5000 + " * * * *", "minute field: 111111111111… (5000 digits) is out of range"),
        ("\x1b[2J * * * *", "minute field: '\\x1b[2j' is not a number 0-59"),
    ],
    ids=["arabic-indic", "devanagari", "fullwidth", "superscript", "step", "huge", "long", "esc"],
)
def test_cron_a_hostile_expression_is_one_line_and_exit_2(
    cli: Cli, expression: str, message: str
) -> None:
    result = cli("cron", expression, "--tz", "UTC")
    _usage_error(result, message)
    assert result.stderr.count("\n") == 1
    assert len(result.stderr) < 400


def test_cron_with_a_bad_dotenv_names_the_key(cli: Cli) -> None:
    del cli.env["JOBCONSOLE_TIMEZONE"]  # so the zone comes from the .env file
    (cli.cwd / ".env").write_text("JOBCONSOLE_TIMEZONE=Nowhere/Land\n")
    _usage_error(cli("cron", "@daily"), "JOBCONSOLE_TIMEZONE='Nowhere/Land'", ".env")


@pytest.mark.parametrize("command", ["cron", "list"])
def test_commands_that_only_print_never_import_textual(cli: Cli, command: str) -> None:
    args = ["cron", "@daily", "--tz", "UTC"] if command == "cron" else ["list"]
    script = (
        "import sys\n"
        "from tui.cli import main\n"
        f"code = main({args!r})\n"
        "print('textual' in sys.modules, code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cli.cwd,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.splitlines()[-1] == "False 0", result.stdout + result.stderr


# ------------------------------------------------------------------ list


def test_list_shows_the_registered_jobs(cli: Cli) -> None:
    result = cli("list")
    # Which state file it read goes to stderr, after the table: stdout is the table alone.
    note = f"jobconsole: state file: {cli.state} (not created yet): the registry's jobs only\n"
    assert (result.returncode, result.stderr) == (0, note)
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["id", "cron", "state", "next", "run", "(UTC)", "description"]
    for line in lines:  # each column starts under its header (next run: not a disabled job's)
        for name in ("cron", "state", "next run", "description"):
            column = header.index(name)
            if name != "next run" or "disabled" not in line:
                assert line[column - 2 : column + 1].startswith("  "), (name, line)
                assert line[column] != " ", (name, line)
    rows = {line.split()[0]: line for line in lines}
    assert "* * * * *" in rows["tick"] and "Every minute" in rows["tick"]
    assert "scheduled" in rows["tick"] and "(in " in rows["tick"]
    assert "The weekday report" in rows["weekday_report"]
    assert " 09:00 (in " in rows["weekday_report"]
    assert "disabled" in rows["dormant"] and "(in " not in rows["dormant"]
    assert not cli.state.exists()  # listing never creates the state file


def test_list_cuts_only_the_description_to_the_width(cli: Cli) -> None:
    narrow = cli("list", COLUMNS="80").stdout.splitlines()
    assert max(len(line) for line in narrow) == 80
    assert narrow[2].endswith("…") and "(in " in narrow[2]  # weekday_report: cut, dated

    env = {k: v for k, v in cli.env.items() if k != "COLUMNS"}
    piped = subprocess.run(cli.argv("list"), cwd=cli.cwd, env=env, capture_output=True, text=True)
    assert piped.stdout.splitlines()[2].endswith("The weekday report")  # a pipe gets it all


def test_list_reports_a_bad_registry_entry_by_name_and_lists_the_rest(cli: Cli) -> None:
    (cli.cwd / "myjobs.py").write_text(
        REGISTRY + 'REGISTERED_JOBS.append({"job_id": "typo", "func": "myjobs:tik", '
        '"cron_expression": "* * * * *"})\n'
    )
    result = cli("list")
    assert result.returncode == 0
    *errors, note = result.stderr.splitlines()
    assert errors == [
        "jobconsole: registry entry 4 ('typo'): function reference 'myjobs:tik': "
        "'myjobs' has no attribute 'tik'"
    ]  # once, not once more by logging
    assert note.startswith("jobconsole: state file: ")
    assert "tick" in result.stdout and "typo" not in result.stdout

    headless = _Headless(cli)
    headless.wait_for(lambda line: line.startswith("jobconsole: running 2 job(s)"))
    code, _, err = headless.stop(signal.SIGTERM)
    assert code == 0
    assert err.splitlines() == errors


MANY_JOBS = """
async def tick():
    pass

REGISTERED_JOBS = [
    {"job_id": f"job{n:04d}", "func": tick, "cron_expression": f"{n % 60} 0 1 1 *"}
    for n in range(2000)
]
"""


def test_a_start_with_many_jobs_prints_one_line_once_every_job_is_scheduled(cli: Cli) -> None:
    (cli.cwd / "myjobs.py").write_text(MANY_JOBS)
    headless = _Headless(cli)
    headless.wait_for(lambda line: line.endswith("scheduler running in UTC"), timeout=30)
    code, lines, err = headless.stop(signal.SIGTERM)
    assert (code, err) == (0, "")
    assert lines[0] == "jobconsole: running 2000 job(s) in UTC; Ctrl-C to stop"
    assert lines[1].endswith("  scheduler started  scheduler running in UTC")
    assert lines[2] == "jobconsole: shutting down…"
    assert not any("job updated" in line for line in lines)


HOSTILE_ENTRIES = r"""
REGISTERED_JOBS += [
    {"job_id": "arabic", "func": tick, "cron_expression": "٣ * * * *"},
    {"job_id": "superscript", "func": tick, "cron_expression": "0 0 * ² *"},
    {"job_id": "long", "func": tick, "cron_expression": "1" * 5000 + " * * * *"},
    {"job_id": "nul", "func": tick, "cron_expression": "\x00 * * * *"},
    {"job_id": "huge_int", "func": tick, "cron_expression": "@daily", "timeout_seconds": 10**400},
    {"job_id": "huge_float", "func": tick, "cron_expression": "@daily", "timeout_seconds": 1e308},
    {"job_id": "a_year_and_1s", "func": tick, "cron_expression": "@daily",
     "timeout_seconds": 365 * 86400 + 1},
    {"job_id": "nan", "func": tick, "cron_expression": "@daily", "timeout_seconds": float("nan")},
    {"job_id": "a_year", "func": tick, "cron_expression": "@daily",
     "timeout_seconds": 365 * 86400},
]
"""


def test_hostile_registry_entries_are_reported_by_name_and_the_rest_start(cli: Cli) -> None:
    (cli.cwd / "myjobs.py").write_text(REGISTRY + HOSTILE_ENTRIES)
    result = cli("list")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    *errors, note = result.stderr.splitlines()
    assert len(errors) == 8, errors
    assert note.startswith("jobconsole: state file: ")
    expected = {
        "arabic": "minute field: '٣' is not a number; expected ASCII digits 0-59",
        "superscript": "month field: '²' is not a number; expected ASCII digits 1-12",
        "long": "minute field: 111111111111… (5000 digits) is out of range 0-59",
        "nul": "minute field: '\\x00' is not a number 0-59",
        "huge_int": "timeout_seconds=an integer of 401 digits is not valid",
        "huge_float": "timeout_seconds=1e+308 is not valid",
        "a_year_and_1s": "timeout_seconds=31536001 is not valid",
        "nan": "timeout_seconds=nan is not valid",
    }
    for line, (job_id, message) in zip(errors, expected.items(), strict=True):
        assert line.startswith("jobconsole: registry entry ") and f"({job_id!r})" in line
        assert message in line, line
        assert len(line) < 400
    for line in errors[4:]:
        assert "expected a number of seconds above 0 and at most 31,536,000 (365 days)" in line
    rows = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert rows == ["tick", "weekday_report", "dormant", "a_year"]

    headless = _Headless(cli)
    headless.wait_for(lambda line: line.startswith("jobconsole: running 3 job(s)"))
    code, _, err = headless.stop(signal.SIGTERM)
    assert code == 0
    assert err.splitlines() == errors


def test_list_says_when_scheduling_is_off(cli: Cli) -> None:
    result = cli("list", BACKGROUND_JOBS_ENABLED="false")
    assert result.returncode == 0
    assert "scheduling is off" in result.stdout
    assert "BACKGROUND_JOBS_ENABLED=true" in result.stdout
    assert "(in " not in result.stdout  # no countdowns: nothing will run


@pytest.mark.parametrize("command", [["list"], ["run", "--headless"]])
def test_a_bad_setting_stops_start_up_naming_the_key(cli: Cli, command: list[str]) -> None:
    (cli.cwd / ".env").write_text("BACKGROUND_JOBS_ENABLED=maybe\n")
    result = cli(*command)
    _usage_error(result, "BACKGROUND_JOBS_ENABLED='maybe'", "expected true or false")
    assert not cli.state.exists()


def test_a_registry_that_does_not_import_is_named(cli: Cli) -> None:
    result = cli("list", JOBCONSOLE_REGISTRY="no_such_registry")
    _usage_error(result, "JOBCONSOLE_REGISTRY='no_such_registry': the module cannot be imported")


# ------------------------------------------------------------------ run --headless


class _Headless:
    def __init__(self, cli: Cli, **env: str) -> None:
        self.process = subprocess.Popen(
            cli.argv("run", "--headless"),
            cwd=cli.cwd,
            env={**cli.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, matches: Callable[[str], bool], timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"no such line within {timeout}s; saw {self.seen}") from None
            self.seen.append(line)
            if matches(line):
                return line

    def stop(self, sig: signal.Signals, timeout: float = 5) -> tuple[int, list[str], str]:
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"still running {timeout}s after {sig.name}") from None
        assert time.monotonic() - started < timeout
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        time.sleep(0.05)  # let the pump drain the last lines
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, self.seen, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_headless_runs_until_a_signal_then_shuts_down(cli: Cli, sig: signal.Signals) -> None:
    headless = _Headless(cli)
    running = headless.wait_for(lambda line: line.startswith("jobconsole: running"))
    assert running == "jobconsole: running 2 job(s) in UTC; Ctrl-C to stop"  # not the disabled
    code, lines, err = headless.stop(sig)
    assert code == 0, err
    assert "Traceback" not in err
    assert any("scheduler started" in line for line in lines)
    assert "jobconsole: shutting down…" in lines
    assert lines[-1].endswith("scheduler stopped  scheduler stopped")
    assert cli.state.exists()  # the headless scheduler keeps its state in JOBCONSOLE_STATE


def test_run_headless_says_when_scheduling_is_off(cli: Cli) -> None:
    headless = _Headless(cli, BACKGROUND_JOBS_ENABLED="false")
    line = headless.wait_for(lambda line: "scheduling is off" in line)
    assert "set BACKGROUND_JOBS_ENABLED=true" in line
    code, lines, _ = headless.stop(signal.SIGTERM)
    assert code == 0
    assert not any("running" in line for line in lines)


def test_run_requires_headless(cli: Cli) -> None:
    _usage_error(cli("run"), "the following arguments are required: --headless")


# ------------------------------------------------------------------ help


@pytest.mark.parametrize("command", [[], ["cron"], ["list"], ["run"], ["history"]])
def test_help(cli: Cli, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"usage: jobconsole {' '.join(command)}".rstrip())


# ------------------------------------------------------------ a reader that stops


@pytest.mark.parametrize("command", [("cron", "* * * * *", "--count", "1000"), ("list",)])
def test_a_pipe_closed_early_ends_the_command_quietly(cli: Cli, command: tuple[str, ...]) -> None:
    """`jobconsole … | head -1`: the reader leaves after one line; no traceback follows."""
    proc = subprocess.Popen(
        cli.argv(*command),
        cwd=cli.cwd,
        env={**cli.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()  # as head does once it has its line
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=30) in (0, 141)
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
