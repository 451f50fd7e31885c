"""Settings from ``.env`` and the environment: defaults, precedence, and a clear error per key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs import EventKind, JobState, SchedulerService, Settings, SettingsError
from jobs.core.settings import KEYS
from tests import jobfuncs_core as jf
from tests.jobfuncs_core import EventLog

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No jobconsole key in the environment, and ``tmp_path`` (where ``.env`` goes) as cwd."""
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(clean_env: Path) -> None:
    settings = Settings.load()
    assert settings == Settings()
    assert settings.background_jobs_enabled is True
    assert settings.timezone == ""
    assert settings.registry == "jobs.registry"
    assert settings.state_path == Path(".jobconsole/state.sqlite3")
    assert settings.misfire_grace_seconds == 60
    assert settings.shutdown_timeout_seconds == 10
    assert settings.job_timeout_seconds is None
    assert settings.output_limit_bytes == 64 * 1024
    assert settings.tz_name  # empty means the machine's own zone, never nothing


def test_env_example_documents_every_key_with_its_default() -> None:
    text = (REPO / ".env.example").read_text()
    for key in KEYS:
        assert f"\n{key}=" in text, f"{key} is not documented in .env.example"
    assert Settings.load(environ={}, env_file=REPO / ".env.example") == Settings()


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        "# comments and blank lines are fine\n\n"
        "BACKGROUND_JOBS_ENABLED=false\n"
        "JOBCONSOLE_TIMEZONE=Europe/London\n"
        'JOBCONSOLE_REGISTRY="myproject.jobs"\n'
        "JOBCONSOLE_STATE=data/state.db\n"
        "JOBCONSOLE_MISFIRE_GRACE_SECONDS=5.5\n"
        "JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS=0\n"
        "JOBCONSOLE_JOB_TIMEOUT_SECONDS=30\n"
        "JOBCONSOLE_OUTPUT_LIMIT_BYTES=1000\n"
        "export JOBCONSOLE_HISTORY_MAX_ROWS=50\n"
        "JOBCONSOLE_HISTORY_MAX_AGE_DAYS=7\n"
    )
    settings = Settings.load()
    assert settings == Settings(
        background_jobs_enabled=False,
        timezone="Europe/London",
        registry="myproject.jobs",
        state_path=Path("data/state.db"),
        misfire_grace_seconds=5.5,
        shutdown_timeout_seconds=0,
        job_timeout_seconds=30,
        output_limit_bytes=1000,
        history_max_rows=50,
        history_max_age_days=7,
    )
    assert settings.tz_name == "Europe/London"


def test_the_real_environment_wins_over_the_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "BACKGROUND_JOBS_ENABLED=false\nJOBCONSOLE_TIMEZONE=Europe/London\n"
    )
    monkeypatch.setenv("BACKGROUND_JOBS_ENABLED", "true")
    settings = Settings.load()
    assert settings.background_jobs_enabled is True
    assert settings.timezone == "Europe/London"  # not set in the environment: the file's
    # A bad value in the file does not matter when the environment overrides it.
    (clean_env / ".env").write_text("BACKGROUND_JOBS_ENABLED=maybe\n")
    assert Settings.load().background_jobs_enabled is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True)],
        *[("false", False), ("False", False), ("0", False), ("no", False), ("off", False)],
    ],
)
def test_boolean_spellings(raw: str, expected: bool) -> None:
    settings = Settings.load(environ={"BACKGROUND_JOBS_ENABLED": raw}, env_file=None)
    assert settings.background_jobs_enabled is expected


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("BACKGROUND_JOBS_ENABLED", "maybe", "true or false"),
        ("BACKGROUND_JOBS_ENABLED", "", "true or false"),
        ("JOBCONSOLE_TIMEZONE", "Mars/Olympus", "an IANA time zone"),
        ("JOBCONSOLE_TIMEZONE", "utc+1", "an IANA time zone"),
        ("JOBCONSOLE_REGISTRY", "my-jobs", "a dotted module name"),
        ("JOBCONSOLE_REGISTRY", "jobs..registry", "a dotted module name"),
        ("JOBCONSOLE_MISFIRE_GRACE_SECONDS", "-1", "a number of seconds, 0 or more"),
        ("JOBCONSOLE_MISFIRE_GRACE_SECONDS", "soon", "a number of seconds, 0 or more"),
        ("JOBCONSOLE_MISFIRE_GRACE_SECONDS", "nan", "a number of seconds, 0 or more"),
        ("JOBCONSOLE_MISFIRE_GRACE_SECONDS", "inf", "a number of seconds, 0 or more"),
        ("JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS", "-0.5", "a number of seconds, 0 or more"),
        ("JOBCONSOLE_JOB_TIMEOUT_SECONDS", "0", "a number of seconds above 0"),
        ("JOBCONSOLE_JOB_TIMEOUT_SECONDS", "-3", "a number of seconds above 0"),
        ("JOBCONSOLE_OUTPUT_LIMIT_BYTES", "0", "a whole number >= 1"),
        ("JOBCONSOLE_OUTPUT_LIMIT_BYTES", "1.5", "a whole number >= 1"),
        ("JOBCONSOLE_HISTORY_MAX_ROWS", "-10", "a whole number >= 1"),
        ("JOBCONSOLE_HISTORY_MAX_AGE_DAYS", "a week", "a number of days, 0 or more"),
    ],
)
def test_a_bad_value_names_the_key_and_the_value(
    clean_env: Path, key: str, raw: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as from_env:
        Settings.load(environ={key: raw}, env_file=None)
    assert (from_env.value.key, from_env.value.value) == (key, raw)
    assert str(from_env.value).startswith(f"{key}={raw!r} (from the environment): expected ")
    assert expected in str(from_env.value)

    (clean_env / ".env").write_text(f"{key}={raw}\n")
    with pytest.raises(SettingsError, match=f"^{key}=.* \\(from .env\\): expected "):
        Settings.load(environ={})


def test_an_empty_state_path_means_no_state_file(clean_env: Path) -> None:
    assert Settings.load(environ={"JOBCONSOLE_STATE": ""}, env_file=None).state_path is None
    (clean_env / ".env").write_text("JOBCONSOLE_STATE=\n")
    assert Settings.load(environ={}).state_path is None
    assert Settings.load(environ={"JOBCONSOLE_STATE": "x.db"}).state_path == Path("x.db")


def test_a_bad_value_carries_no_parser_traceback() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(environ={"JOBCONSOLE_MISFIRE_GRACE_SECONDS": "soon"}, env_file=None)
    assert info.value.__suppress_context__ and info.value.__cause__ is None


@pytest.mark.parametrize("key", sorted(set(KEYS) - {"JOBCONSOLE_STATE"}))  # any path will do
def test_every_key_rejects_garbage(key: str) -> None:
    with pytest.raises(SettingsError, match=f"^{key}="):
        Settings.load(environ={key: "not valid \u2603!"}, env_file=None)


def test_a_bad_dotenv_stops_a_service_from_being_made(clean_env: Path) -> None:
    (clean_env / ".env").write_text("JOBCONSOLE_TIMEZONE=Atlantis/Capital\n")
    with pytest.raises(SettingsError, match="JOBCONSOLE_TIMEZONE='Atlantis/Capital'"):
        SchedulerService()


@pytest.fixture
async def disabled_service(clean_env: Path) -> AsyncIterator[SchedulerService]:
    (clean_env / ".env").write_text("BACKGROUND_JOBS_ENABLED=false\nJOBCONSOLE_TIMEZONE=UTC\n")
    service = SchedulerService()
    yield service
    task = service.shutdown(timeout=0)
    if task is not None:
        await task


async def test_when_background_jobs_are_disabled_nothing_is_scheduled(
    disabled_service: SchedulerService,
) -> None:
    service = disabled_service
    service.register_job("job", jf.ok_async, "* * * * *")
    events = EventLog(service)
    service.start()

    assert not service.is_running
    [job] = service.get_jobs()
    assert job.next_run_time is None
    assert job.state is JobState.SCHEDULED
    reason = service.disabled_reason
    assert reason is not None
    assert "BACKGROUND_JOBS_ENABLED is false" in reason
    assert "set BACKGROUND_JOBS_ENABLED=true in .env or the environment" in reason
    [stopped] = events.events
    assert (stopped.kind, stopped.message) == (EventKind.SCHEDULER_STOPPED, reason)


def test_an_enabled_service_has_no_disabled_reason() -> None:
    assert jf.new_service().disabled_reason is None


def test_a_history_age_beyond_a_century_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="JOBCONSOLE_HISTORY_MAX_AGE_DAYS='999999'"):
        Settings.load({"JOBCONSOLE_HISTORY_MAX_AGE_DAYS": "999999"}, env_file=None)


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("JOBCONSOLE_HISTORY_MAX_ROWS", str(2**63)),  # beyond SQLite's integers
        ("JOBCONSOLE_HISTORY_MAX_ROWS", "1" + "0" * 40),
        ("JOBCONSOLE_HISTORY_MAX_AGE_DAYS", "1e300"),  # now - timedelta(...) overflows
        ("JOBCONSOLE_HISTORY_MAX_AGE_DAYS", "36501"),
    ],
)
def test_a_retention_beyond_what_the_state_file_can_count_is_refused_with_the_range(
    key: str, raw: str
) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load({key: raw}, env_file=None)
    message = str(info.value)
    assert message.startswith(f"{key}={raw!r} (from the environment): expected ")
    assert ("9223372036854775807" if "ROWS" in key else "36500") in message, message
    # The largest accepted values are accepted.
    largest = "9223372036854775807" if "ROWS" in key else "36500"
    assert Settings.load({key: largest}, env_file=None)


@pytest.mark.parametrize("raw", ["31536001", "1e308"])
def test_a_default_job_timeout_beyond_a_year_is_refused_like_a_jobs_own(raw: str) -> None:
    """The same bound as a job's timeout_seconds: a default past it would be no bound at all
    and overflow the loop's deadline for every job."""
    with pytest.raises(SettingsError) as info:
        Settings.load({"JOBCONSOLE_JOB_TIMEOUT_SECONDS": raw}, env_file=None)
    assert "at most 31,536,000 (365 days)" in str(info.value)
    assert Settings.load({"JOBCONSOLE_JOB_TIMEOUT_SECONDS": "31536000"}, env_file=None)
