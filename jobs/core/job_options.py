"""A job's options, defined once: what a registry entry (``CronJobConfig``) may hold, what
``register_job`` takes, how each is checked, and which of them a stored row keeps and
gives back when a console job is registered again.

Adding an option: add it to ``OPTIONS`` (with its check), to the job's fields (``LiveJob``,
``StoredJob``, and ``JobSnapshot`` if the console shows it), to ``register_job``'s keywords
and ``CronJobConfig``, and a migration adding its column to the state file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.config import MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT
from jobs.core.errors import InvalidJobError, shown

_SPACE_BUT_BLANK = re.compile(r"[^\S ]")  # tabs, newlines and other white space
#: Control, format (bidi overrides, zero-width), surrogate and line-breaking characters:
#: an id is printed in every listing, where these would drive or fool the terminal.
_NOT_IN_IDS = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

#: How a job may run, besides the default (on the loop, or in a thread for a plain def).
ISOLATIONS = ("process",)


def check_job_id(job_id: Any) -> str:
    if not isinstance(job_id, str) or not job_id.strip() or job_id != job_id.strip():
        raise InvalidJobError(
            f"job id {job_id!r} is not valid: expected a non-empty name without "
            "surrounding spaces, e.g. 'cleanup_expired_tokens'",
            field="job_id",
        )
    if len(job_id) > 200 or _SPACE_BUT_BLANK.search(job_id):
        raise InvalidJobError(
            f"job id {job_id!r} is not valid: at most 200 characters, no tabs or newlines",
            field="job_id",
        )
    if not job_id.isprintable():  # the fast path: most ids are
        bad = next((c for c in job_id if unicodedata.category(c) in _NOT_IN_IDS), None)
        if bad is not None:
            raise InvalidJobError(
                f"job id {job_id!r} is not valid: {bad!r} (U+{ord(bad):04X}) is a control "
                "or format character; expected printable characters only, e.g. "
                "'cleanup_expired_tokens'",
                field="job_id",
            )
    return job_id


def is_timeout(value: object) -> bool:
    """A job's own timeout: a number of seconds above 0 and at most a year."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and 0 < value <= MAX_TIMEOUT_SECONDS
    )


def check_timeout(job_id: str, value: Any) -> float | None:
    if value is not None and not is_timeout(value):
        raise InvalidJobError(
            f"job {job_id!r}: timeout_seconds={shown(value)} is not valid; "
            f"expected a number of seconds above 0 and at most {MAX_TIMEOUT_TEXT}, or None"
        )
    return float(value) if value is not None else None


def parse_timeout(text: str) -> float | None:
    """A timeout as typed (a form field, a command line): empty or "none" for no timeout,
    else seconds above 0 and at most a year. A ValueError names what was typed."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not is_timeout(value):
        raise ValueError(
            f"timeout: {shown(text)} is not a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_TEXT}; e.g. 30, or empty for none"
        )
    return value


def _check_enabled(job_id: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidJobError(f"job {job_id!r}: enabled={value!r}; expected True or False")
    return value


def _check_description(job_id: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidJobError(f"job {job_id!r}: description={value!r}; expected a string or None")
    return value


def _check_isolation(job_id: str, value: Any) -> str | None:
    if value not in (None, "thread", *ISOLATIONS):
        raise InvalidJobError(f"job {job_id!r}: isolation={value!r}; expected 'process' or None")
    return value if value in ISOLATIONS else None


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a job. A ``plain`` one is held under its own name by the job in
    memory, its stored row and the keywords of ``register_job``, checked by ``check`` and
    given back as it was stored; the others (the id, the function, the expression, the
    zone) are turned into something else (a function, a schedule, a zone) on the way in."""

    name: str
    required: bool = False
    default: Any = None
    check: Callable[[str, Any], Any] | None = None

    @property
    def plain(self) -> bool:
        return self.check is not None


OPTIONS: tuple[Option, ...] = (
    Option("job_id", required=True),
    Option("func", required=True),
    Option("cron_expression", required=True),
    Option("timezone"),
    Option("timeout_seconds", check=check_timeout),
    Option("isolation", check=_check_isolation),
    Option("enabled", default=True, check=_check_enabled),
    Option("description", check=_check_description),
)

#: The keys a registry entry may hold, and those it must.
CONFIG_KEYS = frozenset(option.name for option in OPTIONS)
REQUIRED_KEYS = frozenset(option.name for option in OPTIONS if option.required)
#: The options held under their own name everywhere (see ``Option.plain``).
PLAIN = tuple(option for option in OPTIONS if option.plain)
PLAIN_NAMES = tuple(option.name for option in PLAIN)
DEFAULTS = {option.name: option.default for option in PLAIN}


def check_plain(job_id: str, given: dict[str, Any]) -> dict[str, Any]:
    """The plain options, checked in ``OPTIONS`` order, with defaults for those not given
    (a registry entry gives one or two: 10,000 of them add up)."""
    checked = dict(DEFAULTS)
    for option in PLAIN:
        if option.name in given:
            checked[option.name] = option.check(job_id, given[option.name])  # type: ignore[misc]
    return checked
