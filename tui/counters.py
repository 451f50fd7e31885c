"""Counts of recent happenings for the status line, kept in constant memory."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any


class RecentCount:
    """How many things happened within ``window`` of now, in per-minute buckets.

    Failures can come a hundred a second; keeping one timestamp each for an hour would
    grow to hundreds of thousands, while sixty buckets stay sixty.
    """

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._buckets: deque[list[Any]] = deque()  # [minute, count], oldest first

    def add(self, when: datetime) -> None:
        minute = when.replace(second=0, microsecond=0)
        if self._buckets and self._buckets[-1][0] >= minute:
            self._buckets[-1][1] += 1  # same minute (or a straggler from the one before)
        else:
            self._buckets.append([minute, 1])

    def count(self, now: datetime) -> int:
        since = now - self.window
        while self._buckets and self._buckets[0][0] + timedelta(minutes=1) <= since:
            self._buckets.popleft()
        return sum(count for _, count in self._buckets)
