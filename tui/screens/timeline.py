"""TimelineScreen: every job's fire times over the next hours on one time axis.

The top lane sums all jobs, so collisions (a tall bar) and quiet hours (blank) show at a
glance; below it, one lane per job in the order they next fire, shaded by how often it
fires in each slice. Every lane is scaled from zero (an empty slice is blank) against one
peak: Textual's Sparkline scales each from its own smallest value, so a job firing 15
and 16 times in alternate slices drew as full swings. Counting runs in a thread
(``tui.timeline``), so a large registry never stalls the console; the lanes drawn are
capped, the sum never is.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from jobs.core.records import JobSnapshot
from tui import timeline
from tui.plain_text import visible
from tui.widgets.footer import Footer

#: The windows ``+`` and ``-`` step through.
WINDOWS = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=7),
)
DEFAULT_WINDOW = 2
#: Lanes drawn below the sum: one widget pair each.
MAX_LANES = 200
LABEL_WIDTH = 24
#: Glyphs for a slice's count against the peak, from one fire up; no fire is a blank.
HEIGHTS = "▁▂▃▄▅▆▇█"
SHADES = "░▒▓█"
#: Spacings of the axis' ticks, in seconds: the first that leaves room for its label.
TICK_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def bars(counts: tuple[int, ...], peak: int, glyphs: str) -> str:
    """One glyph per slice: blank for none, else its share of ``peak`` (at least the
    first glyph, so one fire beside a thousand still shows)."""
    if peak <= 0:
        return " " * len(counts)
    top = len(glyphs) - 1
    return "".join(
        glyphs[min(top, (count * len(glyphs) - 1) // peak)] if count else " " for count in counts
    )


def _span(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    if hours == 1:
        return "hour"
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"


def _offset(now: datetime, tz: tzinfo) -> str:
    local = now.astimezone(tz)
    offset = local.utcoffset() or timedelta()
    sign = "+" if offset >= timedelta() else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{getattr(tz, 'key', local.tzname())} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


class TimelineScreen(Screen[None]):
    """When the jobs fire; ``+``/``-`` widen or narrow the window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", tooltip="Back to the job table"),
        Binding("plus,equals_sign", "window(1)", "Wider", tooltip="A longer window"),
        Binding("minus", "window(-1)", "Narrower", tooltip="A shorter window"),
    ]

    def __init__(self, jobs: list[JobSnapshot], *, now: datetime, tz: tzinfo) -> None:
        super().__init__()
        self.jobs = jobs
        self.now = now
        self.tz = tz
        self.window_index = DEFAULT_WINDOW
        self.timeline: timeline.Timeline | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="timeline"):
            yield Static(id="timeline-title", classes="title")
            yield Static(id="timeline-axis")
            with Horizontal(classes="timeline-lane timeline-total"):
                yield Static("all jobs", classes="timeline-label")
                yield Static(id="timeline-sum", classes="timeline-bars")
            yield Static(id="timeline-note")
            yield VerticalScroll(id="timeline-lanes")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._count()

    def on_resize(self) -> None:
        self._count()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_window(self, step: int) -> None:
        index = max(0, min(len(WINDOWS) - 1, self.window_index + step))
        if index != self.window_index:
            self.window_index = index
            self._count()

    @property
    def window(self) -> timedelta:
        return WINDOWS[self.window_index]

    def _slices(self) -> int:
        return max(10, self.size.width - LABEL_WIDTH - 3)

    @work(thread=True, exclusive=True, group="timeline")
    def _count(self) -> None:
        start = self.now.replace(second=0, microsecond=0)
        counted = timeline.build(self.jobs, start, self.window, self._slices())
        self.app.call_from_thread(self._show, counted)

    async def _show(self, counted: timeline.Timeline) -> None:
        self.timeline = counted
        span = _span(self.window)
        self.query_one("#timeline-title", Static).update(
            Content.assemble(
                ("Timeline", "bold"),
                f"  the next {span} · times in {_offset(self.now, self.tz)}",
                ("  (+/- to change)", "$foreground-muted"),
            )
        )
        self.query_one("#timeline-axis", Static).update(self._axis(counted))
        self.query_one("#timeline-sum", Static).update(
            Content(bars(counted.total, max(counted.total, default=0), HEIGHTS))
        )
        lane_peak = max((max(lane.counts) for lane in counted.lanes), default=0)
        index, peak = counted.busiest
        when = counted.start + timedelta(seconds=counted.slice_seconds * index)
        quiet = sum(1 for count in counted.total if count == 0)
        note = (
            f"{sum(counted.total):,} fires of {len(counted.lanes):,} jobs; busiest at "
            f"{when.astimezone(self.tz):%a %H:%M} ({peak:,} in "
            f"{_slice_words(counted.slice_seconds)}); "
            f"{quiet * 100 // max(1, counted.slices)}% of the window without a fire"
        )
        if counted.idle:
            note += f"; {counted.idle:,} paused, disabled or failing jobs not shown"
        if len(counted.lanes) > MAX_LANES:
            note += f"; lanes for the first {MAX_LANES} to fire"
        if counted.cut:
            note += f"; {counted.cut} expression(s) fire more often than counted"
        self.query_one("#timeline-note", Static).update(Content(note))
        lanes = self.query_one("#timeline-lanes", VerticalScroll)
        await lanes.remove_children()
        await lanes.mount_all(
            Horizontal(
                Static(Content(_label(lane.job_id)), classes="timeline-label"),
                Static(Content(bars(lane.counts, lane_peak, SHADES)), classes="timeline-bars"),
                classes="timeline-lane",
            )
            for lane in counted.lanes[:MAX_LANES]
        )

    def _axis(self, counted: timeline.Timeline) -> Content:
        """Tick labels over the lanes at round local times, as many as fit apart."""
        columns = counted.slices
        per_column = counted.slice_seconds
        daily = self.window > timedelta(hours=24)
        label_width = 7 if not daily else 8
        step = next((s for s in TICK_STEPS if s / per_column >= label_width + 1), TICK_STEPS[-1])
        local_start = counted.start.astimezone(self.tz)
        midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        since = (local_start - midnight).total_seconds()
        tick = midnight + timedelta(seconds=-(-since // step) * step)
        cells = [" "] * columns
        while (column := int((tick - local_start).total_seconds() // per_column)) < columns:
            label = f"|{tick:%a %d}" if daily else f"|{tick:%H:%M}"
            for offset, char in enumerate(label):
                if column + offset < columns:
                    cells[column + offset] = char
            tick += timedelta(seconds=step)
        return Content(" " * (LABEL_WIDTH + 1) + "".join(cells))

    @property
    def text(self) -> str:
        """The words shown (for tests)."""
        parts = ["#timeline-title", "#timeline-axis", "#timeline-note"]
        return "\n".join(str(self.query_one(part, Static).render()) for part in parts)


def _label(job_id: str) -> str:
    text = visible(job_id)
    return text if len(text) < LABEL_WIDTH else f"{text[: LABEL_WIDTH - 2]}…"


def _slice_words(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
