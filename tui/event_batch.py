"""The scheduler's events, gathered between two turns of the console's message loop.

The client calls back inside the call that caused an event (a fire, a key's action),
so the console does nothing there but queue it: a burst of a thousand executions wakes
the console once, and each job's row is updated once, to its newest snapshot, however
many of its events the burst held. Every event still reaches the log in order.
No Textual here: the app wakes itself with a message of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from jobs.core.records import EventKind, JobSnapshot, SchedulerEvent


@dataclass(slots=True)
class EventBatch:
    """What a batch of events changes. ``jobs`` maps each job whose row changed to its
    newest snapshot, or to None once removed; ``events`` is every event, oldest first."""

    jobs: dict[str, JobSnapshot | None] = field(default_factory=dict)
    events: list[SchedulerEvent] = field(default_factory=list)

    @property
    def job_ids(self) -> set[str]:
        """Every job an event of the batch was about (its row changed or not)."""
        return {event.job_id for event in self.events if event.job_id is not None}


class EventQueue:
    """Events since the last ``take``; ``wake`` is called once for each new batch."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._events: list[SchedulerEvent] = []
        self._superseded = 0  # the jobs of the first n events are older than a reload

    def __len__(self) -> int:
        return len(self._events)

    def put(self, event: SchedulerEvent) -> None:
        """Queue ``event``; cheap, and calls nothing back (the client's callback)."""
        self._events.append(event)
        if len(self._events) == 1:
            self._wake()

    def supersede_jobs(self) -> None:
        """The console is about to read every job afresh: the snapshots queued so far are
        older than what it will read, and must not be applied over it."""
        self._superseded = len(self._events)

    def take(self) -> EventBatch:
        """Everything queued, merged; the queue starts a new batch."""
        events, superseded = self._events, self._superseded
        self._events, self._superseded = [], 0
        batch = EventBatch(events=events)
        jobs = batch.jobs
        for index, event in enumerate(events):
            if index < superseded:
                continue
            if event.job is not None:
                jobs[event.job.job_id] = event.job
            elif event.kind is EventKind.JOB_REMOVED and event.job_id is not None:
                jobs[event.job_id] = None
        return batch
