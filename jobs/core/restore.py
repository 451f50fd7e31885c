"""How stored state merges with the jobs defined in code, and which runs were missed:
functions over plain data (the registry's jobs, the stored rows, now) that say what to
apply and what to announce; ``persistence.py`` reads the store and applies them.

The rules (also in the README):

- Jobs defined in code (the registry, or ``register_job`` before ``start()``) are the
  source of truth for *what* exists. A code job keeps its stored pause. A cron expression
  or an option edited in the console (the options ``job_options.EDITABLE`` names: the
  timeout, and ``enabled``, which the console's enable and disable change) is kept until
  the code's own value changes; then the code wins and the log says so. So a registry
  ``enabled=False`` job enabled in the console stays enabled while the registry still
  says False; changing the registry's value (either way) overrides the console. A code
  job removed in the console stays removed until it is registered again from the
  console.
- A code job that code no longer defines is gone at the next start (its history stays);
  the log says so once.
- A code job whose registry entry is refused (a typo in its expression, say) is not
  gone: it is not scheduled, and its row (pause, edits, counts) waits for the fix.
- Jobs registered at run time (from the console) are stored as ``module:function``
  references and registered again at start. One whose function no longer imports is
  shown in the error state with the reason; it is neither dropped nor fatal. When code
  now defines a job of the same id, the code's job replaces it as a fresh code job (the
  stored pause and timeout were the console job's, so they do not apply), and the log
  says so.
- Executions a crash left "running" are recorded as interrupted.
- Runs that fell due while nothing was running are recorded as missed (one record per
  job, coalesced); the latest runs once at start if it is still within the misfire
  grace time. "While nothing was running" starts at the later of the last sign of life
  and the job's newest recorded execution, so a run recorded in the last seconds before
  a crash is not taken for missed and run again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from jobs.core import cron, job_options
from jobs.core.job_options import DEFAULT, JobOptions
from jobs.core.records import JobSource
from jobs.core.state_store import StoredJob

#: How many missed fire times to count per job before just saying "more than".
MISSED_COUNT_CAP = 10_000


class CodeJob(Protocol):
    """What the merge reads of a job defined in code."""

    @property
    def cron_expression(self) -> str: ...
    @property
    def options(self) -> JobOptions: ...


class Scheduled(Protocol):
    """What catching up reads of a job that fires."""

    @property
    def job_id(self) -> str: ...
    @property
    def schedule(self) -> cron.CronSchedule: ...
    @property
    def tz(self) -> ZoneInfo: ...


class Kept(NamedTuple):
    """What a code job keeps of its stored row: its pause, the console's expression while
    the registry's is unchanged (``schedule``), and likewise its edited options
    (``options``: the registry's, with those edits; None when nothing was kept). A tuple:
    a merge makes one per registry job (100,000 frozen dataclasses took 50 ms)."""

    job_id: str
    paused: bool
    schedule: cron.CronSchedule | None = None
    options: JobOptions | None = None


#: Makes a ``Kept`` without its ``__new__`` in Python: 100,000 of them add up.
_new_tuple = tuple.__new__


@dataclass(slots=True)
class Merge:
    """What to apply to the jobs, in the order of the stored rows, and what to announce."""

    kept: list[Kept] = field(default_factory=list)
    #: Code jobs removed in the console: they stay removed.
    dropped: list[str] = field(default_factory=list)
    #: Console jobs to register again, from their rows.
    restored: list[StoredJob] = field(default_factory=list)
    #: Rows of code jobs that code no longer defines: delete them from the store.
    forgotten: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def merge(
    code_jobs: Mapping[str, CodeJob], rows: Sequence[StoredJob], broken: Collection[str] = ()
) -> Merge:
    """Merge the stored ``rows`` into the jobs defined in code (by id), by the rules above.

    ``broken``: ids of registry entries that were refused (a typo, say). Their rows are
    left as they are, so fixing the entry brings back the pause and edits they hold.
    """
    result = Merge()
    notices = result.notices
    kept = result.kept
    registry = JobSource.REGISTRY
    #: (registry's options, row's, row's registry options) found to keep nothing, by
    #: identity: rows and jobs share a handful of option values. ``held`` keeps those
    #: alive, so that no other value is given their ids meanwhile.
    unedited: set[tuple[int, int, int]] = set()
    held: list[tuple[JobOptions, JobOptions, JobOptions | None]] = []
    for row in rows:
        job = code_jobs.get(row.job_id)
        if (
            job is not None
            and row.source is registry
            and not row.removed
            and row.code_cron_expression == row.cron_expression == job.cron_expression
        ):
            values = (job.options, row.options, row.code_options)
            key = (id(values[0]), id(values[1]), id(values[2]))
            if key in unedited:
                kept.append(_new_tuple(Kept, (row.job_id, row.paused, None, None)))
                continue
            said = len(notices)
            found = _kept(job, row, notices)
            kept.append(found)
            if found.schedule is None and found.options is None and len(notices) == said:
                unedited.add(key)
                held.append(values)
            continue
        if job is not None and row.source == JobSource.CONSOLE:
            if not row.removed:
                notices.append(
                    f"{row.job_id}: the job registered in the console as {row.func_ref} is "
                    "replaced by the registry's job of the same id; its pause and timeout "
                    "are not kept"
                )
            continue
        if job is not None:
            if row.removed:
                result.dropped.append(row.job_id)
                notices.append(f"{row.job_id}: removed in the console earlier; not scheduled")
                continue
            result.kept.append(_kept(job, row, notices))
            continue
        if row.removed:
            continue
        if row.job_id in broken:
            notices.append(
                f"{row.job_id}: its registry entry is not valid; not scheduled, and what the "
                "state file keeps of it (pause, edits, counts) is kept until it is fixed"
            )
            continue
        if row.source != JobSource.CONSOLE:
            # The registry says which jobs exist: one it no longer defines is gone.
            notices.append(f"{row.job_id}: no longer defined in code; not scheduled")
            result.forgotten.append(row.job_id)
            continue
        result.restored.append(row)
    return result


def _kept(job: CodeJob, row: StoredJob, notices: list[str]) -> Kept:
    schedule = None
    expression = job.cron_expression
    if row.code_cron_expression == expression:
        if row.cron_expression != expression:
            try:
                schedule = cron.parse(row.cron_expression)
            except cron.CronError as exc:
                notices.append(f"{row.job_id}: stored expression ignored: {exc}")
    elif row.code_cron_expression is not None:
        notices.append(
            f"{row.job_id}: the registry's cron expression changed from "
            f"{row.code_cron_expression!r} to {expression!r}; it replaces the one stored"
        )
    return Kept(row.job_id, row.paused, schedule, _kept_options(job.options, row, notices))


def _kept_options(code: JobOptions, row: StoredJob, notices: list[str]) -> JobOptions | None:
    """The registry's options with the console's edits of each editable option whose
    registry value is still the one the row was saved with; a changed one wins, said so."""
    was = row.code_options or DEFAULT
    edits = {}
    for option in job_options.EDITABLE:
        name = option.name
        before, now = getattr(was, name), getattr(code, name)
        if before != now:
            notices.append(
                f"{row.job_id}: the registry's {option.label or name} changed from "
                f"{before!r} to {now!r}; it replaces the one stored"
            )
        elif getattr(row.options, name) != now:
            edits[name] = getattr(row.options, name)
    return replace(code, **edits) if edits else None


def unsaved(rows: Iterable[StoredJob], stored: Mapping[str, StoredJob]) -> list[StoredJob]:
    """The rows that differ from what is stored: a restart with nothing changed writes none."""
    return [row for row in rows if stored.get(row.job_id) != row]


@dataclass(frozen=True, slots=True)
class CatchUp:
    """A job with runs due while nothing ran: ``missed`` of them to record as missed (with
    ``message``, at ``latest``), and whether the latest runs now."""

    job_id: str
    latest: datetime
    missed: int
    message: str
    run_latest: bool


def catch_up(
    jobs: Iterable[Scheduled],
    last_alive: datetime,
    recorded: Mapping[str, datetime],
    now: datetime,
    grace: float,
) -> list[CatchUp]:
    """Runs due between the last sign of life and ``now``, per job; the latest runs once if
    it is within ``grace`` seconds. A run recorded after the sign of life (``recorded``, the
    newest scheduled time per job) was not missed: counting starts after it."""
    found: list[CatchUp] = []
    seen: dict[tuple[str, str, datetime], tuple[int, datetime, datetime | None] | None] = {}
    for job in jobs:
        since = max(last_alive, recorded.get(job.job_id, last_alive))
        key = (job.schedule.normalized, job.tz.key, since)
        if key not in seen:
            seen[key] = _due_between(job, since, now)
        due = seen[key]
        if not due:
            continue
        count, latest, before_latest = due
        run_latest = (now - latest).total_seconds() <= grace
        missed = count - 1 if run_latest else count
        message = ""
        if missed:
            more = "or more " if count >= MISSED_COUNT_CAP else ""
            # When the latest runs now, the last run missed is the one before it.
            last_missed = (before_latest if run_latest else None) or latest
            message = (
                f"missed {missed} {more}run(s) due while jobconsole was not running "
                f"(last due {last_missed.astimezone(job.tz):%Y-%m-%d %H:%M %Z})"
            )
        found.append(CatchUp(job.job_id, latest, missed, message, run_latest))
    return found


def _due_between(
    job: Scheduled, start: datetime, end: datetime
) -> tuple[int, datetime, datetime | None] | None:
    """How many fire times fall in (start, end], capped, the latest of them and the one
    before it (None when the latest is the only one)."""
    first = cron.next_fire(job.schedule.normalized, job.tz, start.timestamp())
    if first is None or first > end:
        return None  # most restarts: nothing was due meanwhile (one cronsim step, no more)
    count = 0
    for when in job.schedule.iterate(start, job.tz):
        if when > end or count >= MISSED_COUNT_CAP:
            break
        count += 1
    if not count:
        return None
    latest = job.schedule.latest_at_or_before(end, job.tz)
    if latest is None:
        return None
    before = None
    if count > 1:
        # Fire times fall on whole minutes: the latest at or before a second earlier is
        # the one before it.
        before = job.schedule.latest_at_or_before(latest - timedelta(seconds=1), job.tz)
        if before is not None and not start < before < latest:
            before = None
    return count, latest, before
