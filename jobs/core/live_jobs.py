"""The jobs in memory: ``LiveJob``, the service's mutable view of each job, how one is
built from its options (checked by ``job_options.py``) and what it becomes in the store.

Snapshots (``JobSnapshot``) are taken from these; nothing outside the service holds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from types import FunctionType
from typing import Any
from zoneinfo import ZoneInfo

from jobs.core import cron, funcs, job_options
from jobs.core.errors import InvalidJobError
from jobs.core.job_options import DEFAULT, JobOptions
from jobs.core.records import JobSource, JobState, LastRun
from jobs.core.state_store import StoredJob


@dataclass(slots=True, eq=False)
class LiveJob:
    """A job as the service holds it: its options, its state and its counts.

    ``source`` says where it was defined (``JobSource``: the registry, or the console);
    ``code_cron`` and ``code_options`` are the registry's own values (None for a console
    job), to tell a console edit from a change in the registry.
    """

    job_id: str
    func: Callable[..., Any] | None
    func_ref: str
    schedule: cron.CronSchedule
    tz: ZoneInfo
    options: JobOptions = DEFAULT
    paused: bool = False
    source: JobSource = JobSource.CONSOLE
    code_cron: str | None = None
    code_options: JobOptions | None = None
    transient: bool = False
    error: str | None = None
    run_count: int = 0
    failure_count: int = 0
    last: LastRun | None = None

    @property
    def schedulable(self) -> bool:
        return self.options.enabled and self.error is None and self.func is not None

    @property
    def cron_expression(self) -> str:
        return self.schedule.expression


def build(
    job_id: str,
    func: Callable[..., Any] | str,
    cron_expression: str,
    default_tz: ZoneInfo,
    **options: Any,
) -> LiveJob:
    """A job from its options, every one checked first (InvalidJobError, CronError,
    TimezoneError name the one at fault); ``options`` are ``JobOptions``' fields (the
    caller refuses other names: ``job_options.unknown_options``).

    A registry of 100,000 entries has a few functions and a few sets of options: each
    distinct one is checked once (``_funcs_seen``, ``_options_seen``), and an entry made
    only of values already found good takes no other check (``known_good``). Anything
    else, and every entry with a fault, goes through ``_build``, so the errors are always
    its own.
    """
    good = known_good(job_id, func, options, not options, default_tz)
    if good is not None and type(cron_expression) is str:
        ref, transient, tz, values = good
        # The id and the function are good: a bad expression fails as in _build.
        schedule = cron.parse(cron_expression)
        return LiveJob(job_id, func, ref, schedule, tz, values, transient=transient)
    return _build(job_id, func, cron_expression, default_tz, options)


def from_entry(entry: dict[str, Any], default_tz: ZoneInfo) -> LiveJob:
    """``build(default_tz=default_tz, **entry)`` for a registry entry whose keys are known
    good (``job_options.REQUIRED_KEYS`` and option names), without making its options a
    dict of their own when they were seen before; the job is the registry's (its
    ``source``, ``code_cron`` and ``code_options`` set)."""
    job_id, func = entry["job_id"], entry["func"]
    good = known_good(job_id, func, entry, len(entry) == 3, default_tz)
    if good is not None:
        ref, transient, tz, values = good
        schedule = cron.parse(entry["cron_expression"])
        return LiveJob(
            job_id,
            func,
            ref,
            schedule,
            tz,
            values,
            False,
            JobSource.REGISTRY,
            schedule.expression,
            values,
            transient,
        )
    options = {name: value for name, value in entry.items() if name not in _NOT_OPTIONS}
    job = _build(job_id, func, entry["cron_expression"], default_tz, options)
    job.source = JobSource.REGISTRY
    job.code_cron = job.schedule.expression
    job.code_options = job.options
    return job


_NOT_OPTIONS = job_options.REQUIRED_KEYS


def known_good(
    job_id: Any, func: Any, options: dict[str, Any], bare: bool, default_tz: ZoneInfo
) -> tuple[str, bool, ZoneInfo, JobOptions] | None:
    """(reference, transient, zone, options) when the id is plain and the function and
    the options (``bare``: none given) were each found good before, so that their checks
    need not run again; None: ``_build`` checks them all. ``jobconsole list`` asks it of
    each entry too (``jobs.core.listing``)."""
    known = _funcs_seen.get(func) if type(func) is FunctionType else None
    if known is None or not _plain_id(job_id):
        return None
    if bare:
        shared = _defaults_seen.get(default_tz)
    else:
        shared = _options_seen.get(_options_key(options, default_tz))
    if shared is None:
        return None
    ref, transient = known
    tz, values = shared
    if transient and values.isolation is not None:
        return None
    return ref, transient, tz, values


def _plain_id(job_id: Any) -> bool:
    """Printable ASCII, no space at either end, not too long: what ``check_job_id`` takes
    without looking further (printable ASCII has no tab, newline or control character)."""
    return (
        type(job_id) is str
        and 0 < len(job_id) <= job_options.MAX_ID_LENGTH
        and job_id.isascii()
        and job_id.isprintable()
        and job_id[0] != " "
        and job_id[-1] != " "
    )


#: Plain functions found good: their reference (or shown name) and whether they are
#: transient (no reference). A function is hashed and compared by identity.
_funcs_seen: dict[Callable[..., Any], tuple[str, bool]] = {}
#: Options found good, by ``_options_key``, and the default options per service zone:
#: the zone and the one ``JobOptions`` value the jobs share.
_options_seen: dict[tuple[Any, ...], tuple[ZoneInfo, JobOptions]] = {}
_defaults_seen: dict[ZoneInfo, tuple[ZoneInfo, JobOptions]] = {}
_SEEN_KEPT = 4096
#: The types an option's value may have for the options to be kept by value: their
#: equality and hash are the built-in ones (a bool is kept apart from an int by its type).
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


def _options_key(options: dict[str, Any], default_tz: ZoneInfo) -> tuple[Any, ...] | None:
    """The options given (a registry entry's other keys are passed over), by name, type
    and value; None when a value is not of ``_PLAIN_VALUES``."""
    key: list[Any] = [default_tz]
    for name, value in options.items():
        if name in _NOT_OPTIONS:
            continue
        kind = type(value)
        if kind not in _PLAIN_VALUES or value != value:  # NaN is never equal to itself
            return None
        key.append((name, kind, value))
    return tuple(key)


def _build(
    job_id: Any,
    func: Any,
    cron_expression: Any,
    default_tz: ZoneInfo,
    options: dict[str, Any],
) -> LiveJob:
    job_options.check_job_id(job_id)
    if isinstance(func, str):
        ref = func.strip()
        func_obj: Callable[..., Any] = funcs.resolve(ref)
        ref = funcs.reference_of(func_obj) or ref
    else:
        funcs.check_callable(func, job_id)
        func_obj = func
        ref = funcs.reference_of(func) or funcs.display_name(func)
    funcs.check_callable(func_obj, job_id)
    transient = funcs.reference_of(func_obj) is None
    if type(func) is FunctionType and len(_funcs_seen) < _SEEN_KEPT:
        _funcs_seen[func] = (ref, transient)
    schedule = cron.parse(cron_expression)
    values = job_options.checked(job_id, options)
    zone = values["timezone"]
    tz = cron.zone(zone) if zone else default_tz
    values["timezone"] = tz.key
    if values["isolation"] == "process" and transient:
        raise InvalidJobError(
            f"job {job_id!r}: isolation='process' needs a module-level function that a "
            f"child process can import; {ref} is not one"
        )
    frozen = job_options.freeze(values)
    if not options:
        _defaults_seen[default_tz] = (tz, frozen)
    elif len(_options_seen) < _SEEN_KEPT:
        key = _options_key(options, default_tz)
        if key is not None:
            _options_seen[key] = (tz, frozen)
    return LiveJob(
        job_id=job_id,
        func=func_obj,
        func_ref=ref,
        schedule=schedule,
        tz=tz,
        options=frozen,
        transient=transient,
    )


def from_row(row: StoredJob, default_tz: ZoneInfo) -> LiveJob:
    """A console job registered again from its row; one that cannot be (its function no
    longer imports, say) is shown in the error state with the reason, never dropped."""
    stored = row.options
    try:
        job = build(
            row.job_id,
            row.func_ref,
            row.cron_expression,
            default_tz,
            **{name: getattr(stored, name) for name in job_options.NAMES},
        )
    except Exception as exc:
        try:
            schedule = cron.parse(row.cron_expression)
        except cron.CronError:
            schedule = cron.parse("@yearly")
        try:
            tz = cron.zone(stored.timezone or "")
        except cron.TimezoneError:
            tz = default_tz
        job = LiveJob(
            job_id=row.job_id,
            func=None,
            func_ref=row.func_ref,
            schedule=schedule,
            tz=tz,
            options=replace(stored, timezone=tz.key),
            error=f"cannot be restored: {exc}",
        )
    job.source = JobSource.CONSOLE
    job.paused = row.paused
    return job


def state_of(
    options: JobOptions, error: str | None, paused: bool, running: bool = False
) -> JobState:
    """What a job's state is called: disabled over an error, an error over a run."""
    if not options.enabled:
        return JobState.DISABLED
    if error is not None:
        return JobState.ERROR
    if running:
        return JobState.RUNNING
    if paused:
        return JobState.PAUSED
    return JobState.SCHEDULED


def row_of(job: LiveJob, *, removed: bool = False) -> StoredJob:
    """What the store keeps of ``job``."""
    return StoredJob(
        job.job_id,
        job.func_ref,
        job.schedule.expression,
        job.source,
        job.options,
        job.paused,
        removed,
        job.code_cron,
        job.code_options,
    )
