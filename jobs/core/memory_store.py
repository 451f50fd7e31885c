"""The state a scheduler keeps when nothing is to outlive its process: the default store.

It holds the job rows and the latest ``RECENT_PER_JOB`` finished executions of each job;
the counts per job are kept whole. A job's history goes with the job: deleting its row, or
saving it as removed, lets its executions go, so a job registered again under the same id
starts afresh. Nothing is written anywhere, so nothing can fail, and there is no earlier
life to catch up on: ``last_alive`` is always None.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from datetime import datetime
from itertools import count

from jobs.core.records import Execution, LastRun
from jobs.core.state_store import JobStats, StateStore, StoredJob

#: Finished executions kept per job.
RECENT_PER_JOB = 20


class MemoryStore(StateStore):
    """Jobs and recent history in memory. ``close`` releases nothing, so a service on it
    may start again after ``shutdown()``."""

    persistent = False

    def __init__(self) -> None:
        self._ids = count(1)
        self._rows: dict[str, StoredJob] = {}
        self._recent: dict[str, deque[Execution]] = {}
        self._stats: dict[str, JobStats] = {}

    def next_execution_id(self) -> int:
        return next(self._ids)

    def record_execution(self, execution: Execution) -> None:
        status = execution.status
        if not status.is_final:
            return  # kept once it ends: a running one is in the service's own view
        recent = self._recent.get(execution.job_id)
        if recent is None:
            recent = self._recent[execution.job_id] = deque(maxlen=RECENT_PER_JOB)
        recent.append(execution)
        if status.is_counted:
            before = self._stats.get(execution.job_id)
            runs, failures = (before.run_count, before.failure_count) if before else (0, 0)
            self._stats[execution.job_id] = JobStats(
                runs + 1, failures + status.is_failure, LastRun.of(execution)
            )

    def save_job(self, job: StoredJob) -> None:
        self._rows[job.job_id] = job
        if job.removed:
            self._forget_history(job.job_id)

    def delete_job(self, job_id: str) -> None:
        self._rows.pop(job_id, None)
        self._forget_history(job_id)

    def _forget_history(self, job_id: str) -> None:
        self._recent.pop(job_id, None)
        self._stats.pop(job_id, None)

    def mark_alive(self, when: datetime) -> None:
        pass  # nothing outlives the process, so no later start asks

    def prune(self, max_rows: int, max_age_days: float, now: datetime) -> None:
        pass  # bounded per job already

    def last_alive(self) -> datetime | None:
        return None

    def latest_scheduled_times(self, job_ids: Iterable[str]) -> dict[str, datetime]:
        latest = {}
        for job_id in job_ids:
            when = next(
                (
                    e.scheduled_time
                    for e in reversed(self._recent.get(job_id, ()))
                    if e.scheduled_time
                ),
                None,
            )
            if when is not None:
                latest[job_id] = when
        return latest

    def load_jobs(self, job_ids: Collection[str] | None = None) -> list[StoredJob]:
        rows = self._rows.values()
        return list(rows) if job_ids is None else [r for r in rows if r.job_id in job_ids]

    def job_stats(self) -> dict[str, JobStats]:
        return dict(self._stats)

    def executions(
        self, job_id: str | None = None, limit: int = 50, failed_only: bool = False
    ) -> list[Execution]:
        if job_id is not None:
            found = list(reversed(self._recent.get(job_id, ())))
        else:
            found = [e for recent in self._recent.values() for e in recent]
            found.sort(key=lambda e: e.id, reverse=True)
        if failed_only:
            found = [e for e in found if e.status.is_failure]
        return found[:limit]

    def execution(self, execution_id: int) -> Execution | None:
        for recent in self._recent.values():
            for execution in recent:
                if execution.id == execution_id:
                    return execution
        return None

    def interrupt_running(self, when: datetime) -> list[Execution]:
        return []  # a running execution is never kept here
