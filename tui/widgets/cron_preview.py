"""CronPreview: under a cron field, what the expression means and when it fires next.

It asks ``jobs.core.cron`` (the one authority on expressions) and shows its answer: the
description and the next fire times, or the exact reason the expression is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from textual.content import Content
from textual.widgets import Static

from jobs.core import cron
from tui import plain_text
from tui.text import literal

HINT = (
    "5 fields: minute hour day-of-month month day-of-week (Sunday is 0 or 7),\n"
    "e.g. */5 * * * *  or  0 9 * * 1-5;  or a macro: @hourly @daily @weekly @monthly"
)


class CronPreview(Static):
    """Shows ``count`` fire times after the clock's now, in ``tz``; class -error on a bad one."""

    def __init__(
        self,
        *,
        tz: tzinfo,
        clock: Callable[[], datetime],
        count: int = 5,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(HINT, id=id, classes=classes)
        self.tz = tz
        self.clock = clock
        self.count = count
        self.error: str | None = None

    def show(self, expression: str) -> bool:
        """Preview ``expression``; True when it is valid."""
        if not expression.strip():
            self.error = None
            self.remove_class("-error")
            self.update(HINT)
            return False
        try:
            schedule = cron.parse(expression)
        except cron.CronError as exc:
            self.show_error(exc.reason)
            return False
        self.error = None
        self.remove_class("-error")
        now = self.clock()
        times = schedule.next_times(now, self.tz, self.count)
        lines: list[tuple[str, str] | str] = [(schedule.description, "bold")]
        for when in times:
            local = when.astimezone(self.tz)
            lines.append(f"\n  {local:%a %Y-%m-%d %H:%M %Z}  ")
            lines.append((plain_text.countdown(when, now), "$foreground-muted"))
        if not times:
            lines.append("\n  (no further fire times)")
        self.update(Content.assemble(*lines))
        return True

    def show_error(self, reason: str) -> None:
        """Show why the expression is refused (e.g. from the service, on submit)."""
        self.error = reason
        self.add_class("-error")
        self.update(literal(reason))  # it may quote what was typed
