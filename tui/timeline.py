"""When the jobs fire over a window of time, counted per slice: the timeline's data.

Plain data, no Textual: the timeline screen draws it, tests check it. Jobs that share an
expression and a zone (thousands often do) share one walk of their fire times, and each
walk stops at the window's end or at ``MAX_FIRES_PER_EXPRESSION``, so a 24-hour window
over 10,000 jobs stays a fraction of a second. Paused, disabled and broken jobs do not
fire, so they are left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from jobs.core import cron
from jobs.core.records import JobSnapshot, JobState

#: A walk past this many fires in the window (every second of a day is 86,400) counts
#: what it has and says it was cut.
MAX_FIRES_PER_EXPRESSION = 20_000

_FIRING = (JobState.SCHEDULED, JobState.RUNNING)


@dataclass(frozen=True, slots=True)
class JobLane:
    job_id: str
    counts: tuple[int, ...]
    first: datetime | None

    @property
    def fires(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Timeline:
    start: datetime
    end: datetime
    slices: int
    total: tuple[int, ...]
    lanes: tuple[JobLane, ...]
    #: Jobs left out because they do not fire (paused, disabled, in error).
    idle: int
    #: Expressions whose fires in the window were more than were counted.
    cut: int

    @property
    def slice_seconds(self) -> float:
        return (self.end - self.start).total_seconds() / self.slices

    @property
    def busiest(self) -> tuple[int, int]:
        """The slice with the most fires and how many (the first such slice)."""
        peak = max(self.total, default=0)
        return (self.total.index(peak) if self.total else 0), peak


def build(jobs: list[JobSnapshot], start: datetime, window: timedelta, slices: int) -> Timeline:
    """Fires of ``jobs`` in ``[start, start + window)``, counted in ``slices`` equal slices,
    the lanes ordered by their first fire (then id)."""
    slices = max(1, slices)
    end = start + window
    width = window.total_seconds() / slices
    walks: dict[tuple[str, str], tuple[tuple[int, ...], datetime | None, bool]] = {}
    lanes: list[JobLane] = []
    idle = 0
    for job in jobs:
        if job.state not in _FIRING:
            idle += 1
            continue
        key = (job.cron_expression, job.timezone)
        walk = walks.get(key)
        if walk is None:
            walk = walks[key] = _walk(key, start, end, width, slices)
        counts, first, _ = walk
        lanes.append(JobLane(job.job_id, counts, first))
    total = [0] * slices
    for lane in lanes:
        for index, count in enumerate(lane.counts):
            total[index] += count
    far = end + timedelta(days=1)
    lanes.sort(key=lambda lane: (lane.first or far, lane.job_id))
    cut = sum(1 for _, _, was_cut in walks.values() if was_cut)
    return Timeline(start, end, slices, tuple(total), tuple(lanes), idle, cut)


def _walk(
    key: tuple[str, str], start: datetime, end: datetime, width: float, slices: int
) -> tuple[tuple[int, ...], datetime | None, bool]:
    expression, zone_name = key
    try:
        schedule = cron.parse(expression)
        tz = cron.zone(zone_name)
    except (cron.CronError, cron.TimezoneError):
        return (0,) * slices, None, False
    counts: Counter[int] = Counter()
    first = None
    # Fire times strictly after the instant before the window: one due at its start counts.
    for seen, when in enumerate(schedule.iterate(start - timedelta(microseconds=1), tz)):
        if when >= end:
            break
        if seen == MAX_FIRES_PER_EXPRESSION:
            return _as_tuple(counts, slices), first, True
        first = first or when
        counts[min(slices - 1, int((when - start).total_seconds() // width))] += 1
    return _as_tuple(counts, slices), first, False


def _as_tuple(counts: Counter[int], slices: int) -> tuple[int, ...]:
    return tuple(counts.get(index, 0) for index in range(slices))
