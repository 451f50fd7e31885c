"""Settings from the environment and a ``.env`` file, loaded once and validated.

Real environment variables win over the file, as python-dotenv users expect. A bad value
stops start-up with a SettingsError that names the key, the value and what is expected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from jobs.core.cron import TimezoneError, zone
from jobs.core.job_options import MAX_TIMEOUT_TEXT, parse_timeout

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting with a value jobconsole cannot use."""

    def __init__(self, key: str, value: str, expected: str, source: str = "") -> None:
        self.key = key
        self.value = value
        where = f" (from {source})" if source else ""
        super().__init__(f"{key}={value!r}{where}: expected {expected}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable; ``KEYS`` below names each field's key, how its value is
    read and what is expected of it."""

    background_jobs_enabled: bool = True
    timezone: str = ""
    registry: str = "jobs.registry"
    #: None (``JOBCONSOLE_STATE=`` empty): no state file, nothing outlives the process.
    state_path: Path | None = Path(".jobconsole/state.sqlite3")
    misfire_grace_seconds: float = 60.0
    shutdown_timeout_seconds: float = 10.0
    job_timeout_seconds: float | None = None
    output_limit_bytes: int = 64 * 1024
    history_max_rows: int = 100_000
    history_max_age_days: float = 30.0

    @property
    def tz_name(self) -> str:
        """The configured zone, or the machine's local zone when none is set."""
        return self.timezone or local_zone_name()

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Read ``env_file`` (if it exists), then let ``environ`` override it."""
        file_values: dict[str, str | None] = {}
        if env_file is not None and Path(env_file).is_file():
            from dotenv import dotenv_values  # most starts have no .env: not paid for then

            file_values = dict(dotenv_values(env_file))
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for key, (attr, parse, expected) in KEYS.items():
            if key in env:
                raw, source = env[key], "the environment"
            elif file_values.get(key) is not None:
                raw, source = str(file_values[key]), str(env_file)
            else:
                continue
            try:
                values[attr] = parse(raw.strip())
            except (ValueError, TimezoneError):
                # from None: the message says it all; the parser's own error is noise.
                raise SettingsError(key, raw, expected, source) from None
        return cls(**values)


def _bool(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(raw)


def _seconds(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError(raw)
    return value


def _days(raw: str) -> float:
    value = _seconds(raw)
    if value > 36500:  # beyond that the cut-off date is out of range
        raise ValueError(raw)
    return value


#: SQLite's largest integer: a row count past it cannot be compared in a query.
_SQLITE_MAX_INT = 2**63 - 1


def _row_count(raw: str) -> int:
    value = _positive_int(raw)
    if value > _SQLITE_MAX_INT:
        raise ValueError(raw)
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def _timezone(raw: str) -> str:
    if raw:
        zone(raw)
    return raw


def _module(raw: str) -> str:
    parts = raw.split(".")
    if not raw or not all(part.isidentifier() for part in parts):
        raise ValueError(raw)
    return raw


def _path(raw: str) -> Path | None:
    return Path(raw).expanduser() if raw else None


KEYS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "BACKGROUND_JOBS_ENABLED": ("background_jobs_enabled", _bool, "true or false"),
    "JOBCONSOLE_TIMEZONE": (
        "timezone",
        _timezone,
        "an IANA time zone such as UTC or Europe/London, or empty for the local zone",
    ),
    "JOBCONSOLE_REGISTRY": ("registry", _module, "a dotted module name such as jobs.registry"),
    "JOBCONSOLE_STATE": ("state_path", _path, "a file path, or empty for no state file"),
    "JOBCONSOLE_MISFIRE_GRACE_SECONDS": (
        "misfire_grace_seconds",
        _seconds,
        "a number of seconds, 0 or more",
    ),
    "JOBCONSOLE_SHUTDOWN_TIMEOUT_SECONDS": (
        "shutdown_timeout_seconds",
        _seconds,
        "a number of seconds, 0 or more",
    ),
    "JOBCONSOLE_JOB_TIMEOUT_SECONDS": (
        "job_timeout_seconds",
        parse_timeout,  # a job's own timeout, read as the edit form reads it
        f"a number of seconds above 0 and at most {MAX_TIMEOUT_TEXT}, or empty for no timeout",
    ),
    "JOBCONSOLE_OUTPUT_LIMIT_BYTES": ("output_limit_bytes", _positive_int, "a whole number >= 1"),
    "JOBCONSOLE_HISTORY_MAX_ROWS": (
        "history_max_rows",
        _row_count,
        f"a whole number >= 1 (at most {_SQLITE_MAX_INT})",
    ),
    "JOBCONSOLE_HISTORY_MAX_AGE_DAYS": (
        "history_max_age_days",
        _days,
        "a number of days, 0 or more (at most 36500)",
    ),
}

assert {attr for attr, _, _ in KEYS.values()} == {f.name for f in fields(Settings)}


def local_zone_name() -> str:
    """The machine's IANA zone name, falling back to UTC where none can be found."""
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:
        name = None
    try:
        return zone(name).key if name else "UTC"
    except TimezoneError:
        return "UTC"
