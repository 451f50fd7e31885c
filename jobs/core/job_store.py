"""The job store APScheduler keeps the service's jobs in: a heap by next run time.

APScheduler's ``MemoryJobStore`` keeps one list sorted by next run time and inserts each
job at its place, O(N) a job: at 100,000 jobs, adding them was a tenth of a start, and
every fire moves a job in that list again. Here a job is a dict entry and, while it has a
next run time, an entry in a heap of ``(timestamp, id)``: adding is O(log N), ``add_all``
takes any number in one step, and the scheduler's look for due jobs pops only those due.
A job changed or removed leaves its old heap entry behind, stale (the job holds another
entry, or none), and dropped when it reaches the top; the heap is rebuilt when stale
entries outnumber live ones.

It answers APScheduler as ``MemoryJobStore`` does (the same order, ties by id; paused jobs
last in ``get_all_jobs``; the same errors), so pausing, resuming, rescheduling and removing
go through the scheduler's own methods unchanged. Imported only once scheduling starts.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError

#: A heap entry: (next run time as a timestamp, job id); a job's own is the one it holds.
_Entry = tuple[float, str]


class HeapJobStore(BaseJobStore):
    """Jobs in RAM, ordered by a heap; no persistence (the service keeps its own state)."""

    def __init__(self) -> None:
        super().__init__()
        #: id -> (job, its heap entry, or None while it has no next run time)
        self._jobs: dict[str, tuple[Job, _Entry | None]] = {}
        self._heap: list[_Entry] = []
        #: Entries get_due_jobs popped: the scheduler updates (or removes) each job it is
        #: given, but one it did not is put back at the next look.
        self._taken: list[_Entry] = []

    # ---------------------------------------------------------------- reading

    def lookup_job(self, job_id: str) -> Job | None:
        held = self._jobs.get(job_id)
        return held[0] if held is not None else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        self._put_back_taken()
        limit = now.timestamp()
        heap, jobs, taken = self._heap, self._jobs, self._taken
        due: list[Job] = []
        while heap and heap[0][0] <= limit:
            entry = heapq.heappop(heap)
            held = jobs.get(entry[1])
            if held is not None and held[1] is entry:
                due.append(held[0])
                taken.append(entry)
        return due

    def get_next_run_time(self) -> datetime | None:
        self._put_back_taken()
        top = self._top()
        return top.next_run_time if top is not None else None

    def get_all_jobs(self) -> list[Job]:
        """Every job, soonest first (ties by id), then the paused ones, as MemoryJobStore."""
        scheduled: list[tuple[float, str, Job]] = []
        paused: list[tuple[str, Job]] = []
        for job_id, (job, entry) in self._jobs.items():
            if entry is not None:
                scheduled.append((entry[0], job_id, job))
            else:
                paused.append((job_id, job))
        scheduled.sort(key=_first_two)
        paused.sort(key=_first)
        return [entry[2] for entry in scheduled] + [entry[1] for entry in paused]

    def next_run_times(self) -> dict[str, datetime | None]:
        """Every job's next run time by id, unordered: what a snapshot of all jobs needs,
        without sorting 100,000 of them."""
        return {job_id: held[0].next_run_time for job_id, held in self._jobs.items()}

    def __len__(self) -> int:
        return len(self._jobs)

    # ---------------------------------------------------------------- writing

    def add_job(self, job: Job) -> None:
        if job.id in self._jobs:
            raise ConflictingIdError(job.id)
        self._put(job)

    def add_all(self, jobs: Iterable[Job], *, replace: bool = False) -> None:
        """Add many jobs in one step (a job whose id is held already replaces it when
        ``replace``, else ConflictingIdError and nothing after it is added)."""
        held = self._jobs
        heap = self._heap
        fresh = not heap
        # Jobs sharing an expression share one next run time object: one timestamp each
        # (by identity: every object counted is held by its job while this runs).
        stamps: dict[int, float] = {}
        try:
            for job in jobs:
                job_id = job.id
                if job_id in held and not replace:
                    raise ConflictingIdError(job_id)
                when = job.next_run_time
                if when is None:
                    held[job_id] = (job, None)
                    continue
                stamp = stamps.get(id(when))
                if stamp is None:
                    stamp = stamps[id(when)] = when.timestamp()
                entry = (stamp, job_id)
                held[job_id] = (job, entry)
                if fresh:
                    heap.append(entry)
                else:
                    heapq.heappush(heap, entry)
        finally:
            if fresh:
                heapq.heapify(heap)
            self._compact_if_stale()

    def update_job(self, job: Job) -> None:
        if job.id not in self._jobs:
            raise JobLookupError(job.id)
        self._put(job)

    def remove_job(self, job_id: str) -> None:
        if self._jobs.pop(job_id, None) is None:
            raise JobLookupError(job_id)
        self._compact_if_stale()

    def remove_all_jobs(self) -> None:
        self._jobs = {}
        self._heap = []
        self._taken = []

    def shutdown(self) -> None:
        self.remove_all_jobs()

    # -------------------------------------------------------------- internals

    def _put(self, job: Job) -> None:
        when = job.next_run_time
        if when is None:
            self._jobs[job.id] = (job, None)
        else:
            entry = (when.timestamp(), job.id)
            self._jobs[job.id] = (job, entry)
            heapq.heappush(self._heap, entry)
        self._compact_if_stale()

    def _top(self) -> Job | None:
        """The soonest job, dropping stale entries above it."""
        heap, jobs = self._heap, self._jobs
        while heap:
            entry = heap[0]
            held = jobs.get(entry[1])
            if held is not None and held[1] is entry:
                return held[0]
            heapq.heappop(heap)
        return None

    def _put_back_taken(self) -> None:
        taken, self._taken = self._taken, []
        jobs = self._jobs
        for entry in taken:
            held = jobs.get(entry[1])
            if held is not None and held[1] is entry:
                heapq.heappush(self._heap, entry)

    def _compact_if_stale(self) -> None:
        if len(self._heap) > 2 * len(self._jobs) + 64:
            jobs = self._jobs
            self._heap = [e for e in self._heap if (h := jobs.get(e[1])) and h[1] is e]
            heapq.heapify(self._heap)


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


def _first_two(entry: tuple[Any, ...]) -> tuple[Any, Any]:
    return entry[0], entry[1]
