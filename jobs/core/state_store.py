"""What the scheduler keeps between runs, as an interface: the rows of its jobs, every
execution, the counts per job and a sign of life.

``SchedulerService`` always has one: ``MemoryStore`` (``memory_store.py``) when nothing is to
outlive the process, the SQLite ``Store`` (``store.py``) for a state file, and later others
(PostgreSQL for many machines). The service never asks which it has; it asks ``persistent``
only where a user is told whether something survives a restart.

Writes may be queued: a store commits them in its own time and says so through the
reporter when they start failing and when they succeed again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs.core.job_options import JobOptions, editable_values
from jobs.core.records import Execution, JobSource, LastRun


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What the writer tells its owner when writes start failing, or succeed again.

    ``message`` is a sentence naming the file and what failed, for a log; ``reason`` is
    short ("disk I/O error"), for a status line.
    """

    failing: bool
    message: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A job as the store keeps it: its options, where it came from and what the console
    changed. ``code_cron_expression`` and ``code_options`` are the registry's own values
    (None for a console job), to tell an edit in the console from a change in the
    registry; of ``code_options`` a store need keep only the editable options
    (``job_options.EDITABLE``): the others are always the row's own."""

    job_id: str
    func_ref: str
    cron_expression: str
    source: JobSource
    options: JobOptions
    paused: bool = False
    removed: bool = False
    code_cron_expression: str | None = None
    code_options: JobOptions | None = None


@dataclass(frozen=True, slots=True)
class JobStats:
    run_count: int
    failure_count: int
    last: LastRun | None


Reporter = Callable[[WriteReport], None]


def unedited(row: StoredJob) -> bool:
    """``listing_rows``' ``unedited``, of a ``StoredJob``."""
    return (
        row.source is JobSource.REGISTRY
        and not row.removed
        and not row.paused
        and row.code_cron_expression == row.cron_expression
        and row.code_options is not None
        and editable_values(row.code_options) == editable_values(row.options)
    )


def run_summary(execution: Execution) -> Execution:
    """``execution`` without its output, error, traceback and warnings: what a strip of
    runs or a chart of durations needs, a few dozen bytes to keep or send where the whole
    may be 64 KiB."""
    e = execution
    return Execution(
        e.id, e.job_id, e.status, e.scheduled_time, e.started_at, e.ended_at, e.trigger
    )


class StateStore(ABC):
    """The scheduler's state. Called from the event loop's thread; reads answer at once,
    writes may be committed later (``flush`` waits for them)."""

    #: Whether what it holds outlives the process (a state file does; memory does not).
    persistent: bool = False
    #: A reader's store: it writes nothing.
    read_only: bool = False

    @property
    def forked(self) -> bool:
        """True in a forked child's copy, which must not write: the state is its parent's."""
        return False

    @property
    def closed(self) -> bool:
        """Closed for good: a service on it cannot start again."""
        return False

    def set_reporter(self, report: Reporter | None) -> None:  # noqa: B027 - optional
        """Have ``report`` called (on any thread) when writes start failing, and when they
        succeed again. A store that cannot fail never calls it."""

    # ------------------------------------------------------------------ writing

    @abstractmethod
    def next_execution_id(self) -> int:
        """An id no execution of this state has had."""

    @abstractmethod
    def record_execution(self, execution: Execution) -> None:
        """Keep ``execution`` (again when it ends: the latest record of an id wins) and
        count it for its job when it is a finished run."""

    @abstractmethod
    def save_job(self, job: StoredJob) -> None: ...

    @abstractmethod
    def delete_job(self, job_id: str) -> None:
        """Forget the job's row (its history may stay)."""

    @abstractmethod
    def mark_alive(self, when: datetime) -> None:
        """Note that the scheduler is alive at ``when``: runs due later and not recorded
        are missed ones, the next start will say."""

    @abstractmethod
    def prune(self, max_rows: int, max_age_days: float, now: datetime) -> None:
        """Let go of history beyond the newest ``max_rows`` or older than the age."""

    def flush(self, timeout: float = 10.0) -> None:  # noqa: B027 - a no-op unless queued
        """Wait until every write so far is committed."""

    def close(self) -> None:  # noqa: B027 - a no-op unless there is something to release
        """Commit what is queued and release what the store holds."""

    # ------------------------------------------------------------------ reading

    @abstractmethod
    def last_alive(self) -> datetime | None: ...

    @abstractmethod
    def latest_scheduled_times(self, job_ids: Iterable[str]) -> dict[str, datetime]:
        """The scheduled time of each job's newest execution; jobs without one left out."""

    @abstractmethod
    def load_jobs(self, job_ids: Collection[str] | None = None) -> list[StoredJob]:
        """Every stored row (or those of ``job_ids``), in the order first saved."""

    def listing_rows(self) -> list[tuple[Any, ...]]:
        """Every stored row as ``(job_id, unedited, cron_expression, *editable)``, in the
        order first saved: ``unedited`` when ``restore.merge`` leaves the row as it is
        while the registry's job of its id has that expression and those values of the
        editable options (``job_options.EDITABLE``, in order), that is a registry job's
        row neither removed, paused nor edited in the console (False is always safe: the
        row is then read whole, ``load_jobs``). What ``jobconsole list`` reads of each row
        (``jobs.core.listing``): a store of 100,000 rows answers without a ``StoredJob``
        each."""
        return [
            (
                row.job_id,
                unedited(row),
                row.cron_expression,
                *editable_values(row.options),
            )
            for row in self.load_jobs()
        ]

    @abstractmethod
    def job_stats(self) -> dict[str, JobStats]: ...

    def holds_jobs(self) -> bool:
        """Whether it holds a job's row or counts: whether merging it could change a job
        (a console draws the registry's first jobs before the merge only when not)."""
        return bool(self.load_jobs() or self.job_stats())

    @abstractmethod
    def executions(
        self, job_id: str | None = None, limit: int = 50, failed_only: bool = False
    ) -> list[Execution]:
        """Newest first."""

    def recent_runs(self, job_ids: Iterable[str], limit: int) -> dict[str, list[Execution]]:
        """Each job's newest ``limit`` finished executions, newest first, as ``run_summary``
        values; a job without any has an empty list. A store answers in one query where
        it can: the console asks this for the rows on screen as they scroll."""
        return {
            job_id: [run_summary(e) for e in self.executions(job_id, limit) if e.status.is_final]
            for job_id in dict.fromkeys(job_ids)
        }

    @abstractmethod
    def execution(self, execution_id: int) -> Execution | None:
        """One execution by its id, whole (output and traceback); None when not kept."""

    @abstractmethod
    def interrupt_running(self, when: datetime) -> list[Execution]:
        """Executions an earlier process left running, now recorded as interrupted."""
