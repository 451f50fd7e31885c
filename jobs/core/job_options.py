"""A job's options, defined once: ``JobOptions`` holds everything about a job besides its
id, its function and its cron expression, and each field says how the option is checked,
how the detail view labels it and whether the console may change it. The registry's
entries (``CronJobConfig``), ``register_job``'s keywords, the job in memory, its snapshot,
its stored row and the restore rules all read this one definition.

Adding an option: a field of ``JobOptions`` (made by ``option()``) and its key in
``OptionKeys``, both below; then the code that acts on it reads ``job.options.NAME``. The
SQLite store keeps it in its ``options`` column (JSON: the value must be a JSON value)
without a migration.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from operator import itemgetter
from typing import Any, TypedDict

from jobs.core import cron
from jobs.core.errors import InvalidJobError, shown

#: The longest timeout a job may have, one year: longer is no bound at all, and values
#: near float's end overflow what adds to them (the loop's deadline, the state file).
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600
#: How ``MAX_TIMEOUT_SECONDS`` reads in messages.
MAX_TIMEOUT_TEXT = f"{MAX_TIMEOUT_SECONDS:,} (365 days)"
#: The longest job id and description, in characters: both are printed in every listing
#: (a form checks them as they are typed).
MAX_ID_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 1000

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
    if len(job_id) > MAX_ID_LENGTH:
        raise InvalidJobError(
            f"job id {shown(job_id)} is too long: {len(job_id):,} characters; "
            f"expected at most {MAX_ID_LENGTH}",
            field="job_id",
        )
    if _SPACE_BUT_BLANK.search(job_id):
        raise InvalidJobError(
            f"job id {job_id!r} is not valid: no tabs or newlines",
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
            f"expected a number of seconds above 0 and at most {MAX_TIMEOUT_TEXT}, or None",
            field="timeout_seconds",
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


def check_description(job_id: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidJobError(
            f"job {job_id!r}: description={value!r}; expected a string or None",
            field="description",
        )
    if value is not None and len(value) > MAX_DESCRIPTION_LENGTH:
        raise InvalidJobError(
            f"job {job_id!r}: the description is too long: {len(value):,} characters; "
            f"expected at most {MAX_DESCRIPTION_LENGTH:,}",
            field="description",
        )
    return value


def _check_isolation(job_id: str, value: Any) -> str | None:
    if value not in (None, "thread", *ISOLATIONS):
        raise InvalidJobError(f"job {job_id!r}: isolation={value!r}; expected 'process' or None")
    return value if value in ISOLATIONS else None


def _check_timezone(job_id: str, value: Any) -> str | None:
    """A zone's name, or None (also for "") for the service's zone; TimezoneError names it."""
    if not value:
        return None
    cron.zone(value)
    return value


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _timeout_text(value: float | None) -> str:
    return f"{value:g}s" if value else "none"


def _isolation_text(value: str | None) -> str:
    return value or "none (runs in this process)"


@dataclass(frozen=True, slots=True)
class Option:
    """What one field of ``JobOptions`` is. ``check(job_id, value)`` returns the value to
    keep or raises an error naming the job and the value. ``label`` names it in the
    detail view (None: not listed there), ``text`` writes its value there. An ``editable``
    option may be changed in the console: for a registry job the change is kept across
    restarts while the registry's own value stays the same (see ``restore.py``)."""

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    label: str | None = None
    text: Callable[[Any], str] = str
    editable: bool = False


def option(
    default: Any,
    check: Callable[[str, Any], Any],
    *,
    label: str | None = None,
    text: Callable[[Any], str] = str,
    editable: bool = False,
) -> Any:
    """A field of ``JobOptions``, with what ``Option`` says of it."""
    spec = {"check": check, "label": label, "text": text, "editable": editable}
    return field(default=default, metadata={"option": spec})


@dataclass(frozen=True, slots=True)
class JobOptions:
    """A job's options, as given (a registry entry, ``register_job``), held (the job in
    memory, its snapshot, its stored row) and compared (restore). Fields are listed in the
    order they are checked and shown.

    ``timezone`` is an IANA zone for this job (given: None for the service's zone; held:
    the zone's name always). ``enabled=False`` lists the job as disabled without
    scheduling it (the console's enable and disable change it, as an edit).
    ``timeout_seconds`` overrides JOBCONSOLE_JOB_TIMEOUT_SECONDS.
    ``isolation="process"`` runs each execution in a child process, so that ``os._exit``,
    a crash or a runaway allocation fails that execution only (and a timeout can kill it).
    ``description`` is shown instead of the expression in words.
    """

    timezone: str | None = option(None, _check_timezone, label="time zone")
    enabled: bool = option(True, _check_enabled, label="enabled", text=_yes_no, editable=True)
    timeout_seconds: float | None = option(
        None, check_timeout, label="timeout", text=_timeout_text, editable=True
    )
    isolation: str | None = option(None, _check_isolation, label="isolation", text=_isolation_text)
    description: str | None = option(None, check_description)


class OptionKeys(TypedDict, total=False):
    """The options as a registry entry (``CronJobConfig``) and ``register_job`` take them:
    one key per field of ``JobOptions`` (a test holds the two together)."""

    timezone: str
    enabled: bool
    timeout_seconds: float
    isolation: str
    description: str


def _spec(f: Any) -> Option:
    return Option(f.name, f.default if f.default is not MISSING else None, **f.metadata["option"])


#: Every option, in ``JobOptions``' order.
OPTIONS: tuple[Option, ...] = tuple(_spec(f) for f in fields(JobOptions))
NAMES: tuple[str, ...] = tuple(o.name for o in OPTIONS)
#: The options the console may change (see ``Option.editable``).
EDITABLE: tuple[Option, ...] = tuple(o for o in OPTIONS if o.editable)
EDITABLE_NAMES: tuple[str, ...] = tuple(o.name for o in EDITABLE)


def editable_values(options: JobOptions) -> tuple[Any, ...]:
    """The values of the options the console may change, in ``EDITABLE``'s order: what a
    stored row and its registry job are compared by."""
    return tuple(getattr(options, name) for name in EDITABLE_NAMES)


#: What the detail view lists, in order.
SHOWN: tuple[Option, ...] = tuple(o for o in OPTIONS if o.label is not None)
DEFAULT = JobOptions()
_DEFAULTS = {o.name: o.default for o in OPTIONS}

#: The keys of a registry entry besides the options, all required.
REQUIRED_KEYS = frozenset({"job_id", "func", "cron_expression"})
#: The keys a registry entry may hold.
CONFIG_KEYS = REQUIRED_KEYS | frozenset(NAMES)


def unknown_options(given: Mapping[str, Any]) -> list[str]:
    """The names in ``given`` that are no option, sorted."""
    if given.keys() <= _DEFAULTS.keys():
        return []
    return sorted(name for name in given if name not in _DEFAULTS)


def checked(job_id: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every option, those in ``given`` checked in ``OPTIONS`` order, the rest at their
    defaults (a registry entry gives one or two: 10,000 of them add up). Unknown names
    are the caller's to refuse (``unknown_options``)."""
    values = dict(_DEFAULTS)
    if given:
        for spec in OPTIONS:
            if spec.name in given:
                values[spec.name] = spec.check(job_id, given[spec.name])
    return values


_REST = tuple(name for name in NAMES if name != "timezone")
_rest_of = itemgetter(*_REST)
_REST_DEFAULTS = _rest_of(_DEFAULTS)
_SHARED: dict[str, JobOptions] = {}


def freeze(values: dict[str, Any]) -> JobOptions:
    """``JobOptions`` from ``checked`` values with the zone resolved. Most registry entries
    give nothing but defaults: they share one value per zone (10,000 of them made one each
    took a sixth of the registry's load)."""
    if _rest_of(values) == _REST_DEFAULTS:
        zone = values["timezone"]
        shared = _SHARED.get(zone)
        if shared is None:
            shared = _SHARED[zone] = JobOptions(**values)
        return shared
    return JobOptions(**values)


def options_of(values: Mapping[str, Any]) -> JobOptions:
    """Options from stored values (already checked once), ignoring names no option has
    (a state file written by a later version) and defaulting those it lacks (an earlier)."""
    return JobOptions(**{name: values[name] for name in NAMES if name in values})
