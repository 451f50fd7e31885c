"""Plain, immutable values that cross the boundary between the scheduler and its users.

Nothing here refers to APScheduler: a UI, a CLI or a test only ever sees these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from jobs.core import cron
from jobs.core.job_options import DEFAULT, JobOptions


class JobState(StrEnum):
    SCHEDULED = "scheduled"
    PAUSED = "paused"
    RUNNING = "running"
    DISABLED = "disabled"
    ERROR = "error"


class ExecutionStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MISSED = "missed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self is not ExecutionStatus.RUNNING

    @property
    def is_failure(self) -> bool:
        """A counted run that went wrong: the failure count and the failed-only history."""
        return self in FAILURES

    @property
    def is_counted(self) -> bool:
        """A run that happened (or began) and ended: it counts in the run count and is the
        job's "last run"; a missed or skipped one did not run, a running one has not ended."""
        return self in COUNTED


#: The one list of statuses that count as runs, and of those that count as failures.
COUNTED = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.INTERRUPTED,
    }
)
FAILURES = frozenset(
    {ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.INTERRUPTED}
)


class JobSource(StrEnum):
    """Where a job was defined, named as the screens name it. The values are what state
    files and snapshots have always held, so both stay readable as they are."""

    #: The registry, or ``register_job`` before ``start()``: code says the job exists.
    REGISTRY = "code"
    #: Registered while running (the console): stored, and registered again at start.
    CONSOLE = "runtime"


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Execution:
    """One run (or one run that did not happen: missed, skipped) of one job.

    `id` is unique per service process and, with durable state, across restarts.
    """

    id: int
    job_id: str
    status: ExecutionStatus
    scheduled_time: datetime | None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    trigger: Trigger = Trigger.SCHEDULE
    error: str | None = None
    traceback: str | None = None
    output: str = ""
    output_truncated: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None until the execution has both."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def lateness(self) -> float | None:
        """Seconds between the scheduled time and the actual start."""
        if self.started_at is None or self.scheduled_time is None:
            return None
        return (self.started_at - self.scheduled_time).total_seconds()

    @property
    def error_line(self) -> str:
        """The first line of the error, for one-line listings."""
        return (self.error or "").splitlines()[0] if self.error else ""


@dataclass(frozen=True, slots=True)
class LastRun:
    """What a job's row shows of its latest run: never its output, which may be 64 KB, and
    the service keeps one of these for each of maybe 10,000 jobs."""

    execution_id: int
    status: ExecutionStatus
    run_time: datetime | None
    duration: float | None

    @classmethod
    def of(cls, execution: Execution) -> LastRun:
        return cls(
            execution.id,
            execution.status,
            execution.started_at or execution.scheduled_time,
            execution.duration,
        )


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """What a job is, where it stands and how its runs went, at one moment. Its options
    (``options``, with the zone's name always set) are also read as attributes of their
    own: ``timezone``, ``enabled``, ``timeout_seconds``, ``isolation``, and
    ``given_description`` for the description as given."""

    job_id: str
    func_ref: str
    cron_expression: str
    state: JobState
    options: JobOptions = DEFAULT
    next_run_time: datetime | None = None
    last_run_time: datetime | None = None
    last_status: ExecutionStatus | None = None
    last_duration: float | None = None
    run_count: int = 0
    failure_count: int = 0
    error: str | None = None
    source: JobSource = JobSource.CONSOLE

    @property
    def given_description(self) -> str | None:
        return self.options.description

    @property
    def timezone(self) -> str:
        return self.options.timezone or ""

    @property
    def enabled(self) -> bool:
        return self.options.enabled

    @property
    def timeout_seconds(self) -> float | None:
        return self.options.timeout_seconds

    @property
    def isolation(self) -> str | None:
        return self.options.isolation

    @property
    def description(self) -> str:
        """The description given at registration, else the expression in words.

        Worded on first use, not when the snapshot is taken: describing 10,000 expressions
        up front held back the console's first frame.
        """
        return _description(self.given_description, self.cron_expression)


def _description(given: str | None, expression: str) -> str:
    if given:
        return given
    try:
        return cron.parse(expression).description
    except cron.CronError:
        return expression


class JobRow(NamedTuple):
    """A ``JobSnapshot``'s fields as a plain tuple, in its order: what a console's table
    holds for each job. 100,000 of them are read at start-up, and a tuple is made in a
    tenth of a frozen snapshot's time; ``snapshot()`` makes the snapshot of a row drawn.
    The table sorts and filters by the same names (``description`` too)."""

    job_id: str
    func_ref: str
    cron_expression: str
    state: JobState
    options: JobOptions
    next_run_time: datetime | None
    last_run_time: datetime | None
    last_status: ExecutionStatus | None
    last_duration: float | None
    run_count: int
    failure_count: int
    error: str | None
    source: JobSource

    @classmethod
    def of(cls, job: JobSnapshot) -> JobRow:
        return _new_row(cls, _snapshot_fields(job))

    def snapshot(self) -> JobSnapshot:
        return JobSnapshot(*self)

    @property
    def description(self) -> str:
        """As ``JobSnapshot.description``."""
        return _description(self.options.description, self.cron_expression)


#: A ``JobRow`` from a tuple of its fields without its ``__new__`` in Python.
_new_row = tuple.__new__
_snapshot_fields = attrgetter(*JobRow._fields)


class JobListing(NamedTuple):
    """The little of a job that ``jobconsole list`` prints, read without a snapshot."""

    job_id: str
    schedule: cron.CronSchedule
    tz: ZoneInfo
    state: JobState
    error: str | None
    given_description: str | None


@dataclass(frozen=True, slots=True)
class RejectedEntry:
    """A registry entry that was not loaded, and why: kept so that a console shows it as
    a row in the error state (``snapshot``), not only as a message that goes away.

    ``row_id`` is the entry's own id when it has a valid one no loaded job holds, else
    ``"registry entry N"`` (``index``, from 1); ``message`` is the start-up error line.
    """

    index: int
    row_id: str
    reason: str
    message: str
    func_ref: str = ""
    cron_expression: str = ""

    def snapshot(self) -> JobSnapshot:
        """Its row: the error state, the reason as its description and its error."""
        why = f"not loaded: {self.reason}"
        return JobSnapshot(
            job_id=self.row_id,
            func_ref=self.func_ref,
            cron_expression=self.cron_expression,
            state=JobState.ERROR,
            options=JobOptions(timezone="", description=why),
            error=why,
            source=JobSource.REGISTRY,
        )


@dataclass(frozen=True, slots=True)
class RegistryLoad:
    """How far a scheduler has loaded the registry entries it loads a step at a time.

    ``settled``: the jobs loaded so far are as they will be shown once every entry is
    loaded and merged with the state file (there is nothing stored to merge), so a
    console may draw them before the rest.
    """

    loaded: int
    total: int
    settled: bool = True

    @property
    def done(self) -> bool:
        return self.loaded >= self.total


class EventKind(StrEnum):
    JOB_ADDED = "job added"
    JOB_REMOVED = "job removed"
    JOB_PAUSED = "job paused"
    JOB_RESUMED = "job resumed"
    JOB_RESCHEDULED = "job rescheduled"
    JOB_ENABLED = "job enabled"
    JOB_DISABLED = "job disabled"
    JOB_UPDATED = "job updated"
    EXECUTION_STARTED = "started"
    EXECUTION_SUCCEEDED = "succeeded"
    EXECUTION_FAILED = "failed"
    EXECUTION_MISSED = "missed"
    EXECUTION_SKIPPED = "skipped"
    EXECUTION_CANCELLED = "cancelled"
    EXECUTION_TIMED_OUT = "timed out"
    EXECUTION_INTERRUPTED = "interrupted"
    SCHEDULER_STARTED = "scheduler started"
    SCHEDULER_STOPPED = "scheduler stopped"
    WARNING = "warning"
    STATE_ERROR = "state error"
    STATE_RECOVERED = "state recovered"
    #: An attached client lost its host (the process that schedules), and found one again.
    HOST_LOST = "host lost"
    HOST_BACK = "host back"


EXECUTION_EVENT_FOR_STATUS: dict[ExecutionStatus, EventKind] = {
    ExecutionStatus.RUNNING: EventKind.EXECUTION_STARTED,
    ExecutionStatus.SUCCEEDED: EventKind.EXECUTION_SUCCEEDED,
    ExecutionStatus.FAILED: EventKind.EXECUTION_FAILED,
    ExecutionStatus.MISSED: EventKind.EXECUTION_MISSED,
    ExecutionStatus.SKIPPED: EventKind.EXECUTION_SKIPPED,
    ExecutionStatus.CANCELLED: EventKind.EXECUTION_CANCELLED,
    ExecutionStatus.TIMED_OUT: EventKind.EXECUTION_TIMED_OUT,
    ExecutionStatus.INTERRUPTED: EventKind.EXECUTION_INTERRUPTED,
}


#: ``SCHEDULER_STARTED``'s ``details`` when the start changed no job beyond its next run
#: time and what other events said (the state file was merged before ``start()``): a
#: console then reads the next run times (``SchedulerClient.next_run_times``), not every job.
NEXT_RUNS_ONLY = ("changed", "next run times")


@dataclass(frozen=True, slots=True)
class SchedulerEvent:
    """Something that happened, as the service reports it to subscribers.

    Job events carry the job's new snapshot (None once removed); execution events
    carry the execution and the job's snapshot after it.
    """

    kind: EventKind
    at: datetime
    job_id: str | None = None
    job: JobSnapshot | None = None
    execution: Execution | None = None
    message: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SchedulerStatus:
    """What the console shows of the scheduler itself, and needs to word its notes.

    ``running``: jobs fire (true from ``start()`` until a shutdown begins).
    ``disabled_reason``: why scheduling is off by configuration, else None.
    ``boot_errors``: registry entries that could not be loaded, one message each.
    ``state_error``: why runs are not being kept in the state file now, else None.
    ``durable``: a state file keeps jobs and runs across restarts.
    ``registry``: the module the code-defined jobs come from.
    ``shutdown_timeout_seconds``: how long running jobs get when the scheduler stops.
    """

    running: bool
    timezone: str
    disabled_reason: str | None
    boot_errors: tuple[str, ...]
    state_error: str | None
    durable: bool
    registry: str
    shutdown_timeout_seconds: float
    #: The process that schedules: its pid, what it is (``"console"``, ``"run --headless"``,
    #: ``"library"``) and when it began scheduling; the control API's socket while served.
    host_pid: int | None = None
    role: str = "console"
    started_at: datetime | None = None
    socket: str | None = None
    #: This client watches a scheduler in another process (``RemoteClient``).
    attached: bool = False
    #: False while an attached client has lost its host (it keeps trying).
    connected: bool = True
    #: Attached without the power to change anything (``--read-only``).
    read_only: bool = False
    #: The registry entries that were not loaded (``boot_errors`` as data).
    rejected: tuple[RejectedEntry, ...] = ()
    #: The state file the scheduler keeps its jobs and runs in (the host's, attached);
    #: None when they are kept in memory only.
    state_path: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
