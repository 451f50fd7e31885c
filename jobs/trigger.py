"""The APScheduler trigger behind every job: APScheduler asks it *when*, cronsim answers.

Kept apart from ``jobs.cron`` so that commands which only read expressions (``jobconsole
cron``) never import APScheduler.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from jobs.cron import CronSchedule, next_fire


class CronTrigger(BaseTrigger):
    """An APScheduler trigger that asks cronsim for the next fire time, in its own zone."""

    __slots__ = ("schedule", "tz")

    def __init__(self, schedule: CronSchedule, tz: ZoneInfo) -> None:
        self.schedule = schedule
        self.tz = tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            start = previous_fire_time.timestamp()
        else:
            # We yield times strictly after `start`; APScheduler wants >= now, to the second.
            # (Flooring also lets jobs sharing an expression share the cached answer.)
            start = float(math.ceil(now.timestamp()) - 1)
        return next_fire(self.schedule.normalized, self.tz, start)

    def __str__(self) -> str:
        return f"cron[{self.schedule.expression}, {self.tz.key}]"

    def __repr__(self) -> str:
        return f"<CronTrigger {self.schedule.expression!r} tz={self.tz.key!r}>"
