"""JobTable: the job list as a Line API widget that draws only the rows on screen.

A DataTable builds and caches renderables for every cell of every row; at 10,000 jobs
whose countdowns tick each second that is too slow to fill and to refresh. This table
keeps the JobSnapshots and the order of their ids, and computes a row's cells only when
``render_line`` draws it, so a frame costs what the screen shows, not what the table holds.

The order is a sorted list of ``(key, job_id)`` tuples searched with ``bisect``: updating
one job is O(log n) plus a memmove, and moves the row only when its sort key changed.
The cursor is a job id, not a row number, so it stays on its job across updates, sorts
and filters.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jobs.records import ExecutionStatus, JobSnapshot, JobState
from tui import plain_text
from tui.plain_text import visible
from tui.widgets._scrolling import set_virtual_size
from tui.widgets._styles import PassStyles

Clock = Callable[[], datetime]
SortKey = tuple[Any, ...]


def _next_run(job: JobSnapshot, now: datetime, tz: tzinfo) -> str:
    """``14:05:00 in 4m 12s`` within a day, ``12-01 09:00 in 2d 5h`` (month-day) beyond."""
    when = job.next_run_time
    if when is None:
        return ""
    local = when.astimezone(tz)
    clock = local.strftime("%H:%M:%S" if when - now < timedelta(days=1) else "%m-%d %H:%M")
    return f"{clock} {plain_text.countdown(when, now)}"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    return "just now" if seconds < 1 else f"{plain_text.span(seconds)} ago"


_STATE_CLASS = {
    JobState.RUNNING: "job-table--running",
    JobState.PAUSED: "job-table--warning",
    JobState.DISABLED: "job-table--muted",
    JobState.ERROR: "job-table--error",
}
_STATUS_CLASS = {
    ExecutionStatus.RUNNING: "job-table--running",
    ExecutionStatus.SUCCEEDED: "job-table--success",
    ExecutionStatus.FAILED: "job-table--error",
    ExecutionStatus.TIMED_OUT: "job-table--error",
    ExecutionStatus.INTERRUPTED: "job-table--error",
    ExecutionStatus.MISSED: "job-table--warning",
    ExecutionStatus.SKIPPED: "job-table--warning",
    ExecutionStatus.CANCELLED: "job-table--warning",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: how to draw a job's cell and how to order jobs by it.

    ``cell`` returns the text and a component class for its colour (or None); text from
    users (ids, descriptions) has its control characters made visible (``plain_text.visible``)
    and, drawn as a segment, is never parsed as markup.
    ``value`` returns something comparable among jobs, or None for "no value" (sorted last).
    """

    key: str
    label: str
    width: int
    cell: Callable[[JobSnapshot, datetime, tzinfo], tuple[str, str | None]]
    value: Callable[[JobSnapshot], Any]
    right: bool = False
    flexible: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("id", "id", 19, lambda j, n, z: (visible(j.job_id), None), lambda j: j.job_id),
    Column(
        "cron",
        "cron",
        13,
        lambda j, n, z: (visible(j.cron_expression), None),
        lambda j: j.cron_expression,
    ),
    Column(
        "state",
        "state",
        9,
        lambda j, n, z: (str(j.state), _STATE_CLASS.get(j.state)),
        lambda j: str(j.state),
    ),
    Column(
        "next",
        "next run",
        21,
        lambda j, n, z: (_next_run(j, n, z), None),
        lambda j: j.next_run_time,
    ),
    Column(
        "status",
        "status",
        9,
        lambda j, n, z: (
            str(j.last_status or ""),
            _STATUS_CLASS.get(j.last_status) if j.last_status else None,
        ),
        lambda j: str(j.last_status) if j.last_status else None,
    ),
    Column(
        "last",
        "last run",
        10,
        lambda j, n, z: (_ago(j.last_run_time, n), None),
        lambda j: j.last_run_time,
    ),
    Column(
        "duration",
        "took",
        6,
        lambda j, n, z: (plain_text.duration(j.last_duration), None),
        lambda j: j.last_duration,
        right=True,
    ),
    Column(
        "runs", "runs", 5, lambda j, n, z: (str(j.run_count), None), lambda j: j.run_count, True
    ),
    Column(
        "fails",
        "fails",
        5,
        lambda j, n, z: (str(j.failure_count), "job-table--error" if j.failure_count else None),
        lambda j: j.failure_count,
        right=True,
    ),
    Column(
        "description",
        "description",
        11,
        lambda j, n, z: (visible(j.description), "job-table--muted"),
        lambda j: j.description,
        flexible=True,
    ),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def _fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, marking a cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    if right:
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)


class JobTable(ScrollView, can_focus=True):
    """A sortable, filterable table of jobs; the cursor follows its job, not its row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", tooltip="Select the job above", show=False),
        Binding("down,j", "cursor_down", "Down", tooltip="Select the job below", show=False),
        Binding("pageup", "page_up", "Page up", tooltip="Select a page up", show=False),
        Binding("pagedown", "page_down", "Page down", tooltip="Select a page down", show=False),
        Binding("home,g", "first", "First", tooltip="Select the first job", show=False),
        Binding("end,G", "last", "Last", tooltip="Select the last job", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "job-table--header",
        "job-table--header-sorted",
        "job-table--cursor",
        "job-table--even-row",
        "job-table--empty",
        "job-table--success",
        "job-table--error",
        "job-table--warning",
        "job-table--running",
        "job-table--muted",
    }

    DEFAULT_CSS = """
    JobTable {
        background: $surface;
        & > .job-table--header { background: $panel; text-style: bold; }
        & > .job-table--header-sorted { color: $text-accent; text-style: bold; }
        & > .job-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .job-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .job-table--even-row { background: $surface-lighten-1 50%; }
        &:light > .job-table--even-row { background: $surface-darken-1 40%; }
        & > .job-table--empty { color: $foreground-muted; text-style: italic; }
        & > .job-table--success { color: $text-success; }
        & > .job-table--error { color: $text-error; }
        & > .job-table--warning { color: $text-warning; }
        & > .job-table--running { color: $text-primary; text-style: bold; }
        & > .job-table--muted { color: $foreground-muted; }
    }
    """

    filter_text: reactive[str] = reactive("", init=False)
    """Show only jobs whose id, function, cron, description or state contains this."""

    class JobHighlighted(Message):
        """The cursor moved to another job (or, with ``job_id`` None, the table emptied)."""

        def __init__(self, table: JobTable, job_id: str | None) -> None:
            super().__init__()
            self.table = table
            self.job_id = job_id

        @property
        def control(self) -> JobTable:
            return self.table

    class JobSelected(Message):
        """The user asked for a job's details (a click on the selected row)."""

        def __init__(self, table: JobTable, job_id: str) -> None:
            super().__init__()
            self.table = table
            self.job_id = job_id

        @property
        def control(self) -> JobTable:
            return self.table

    def __init__(
        self,
        *,
        tz: tzinfo = UTC,
        clock: Clock | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tz = tz
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._jobs: dict[str, JobSnapshot] = {}
        self._keys: dict[str, SortKey] = {}
        self._haystack: dict[str, str] = {}
        self._all: list[SortKey] = []
        self._view: list[SortKey] | None = None
        self._states: Counter[JobState] = Counter()
        self._cursor: str | None = None
        self._announced: str | None = None
        self._sort_index = 0
        self._reverse = False
        self._widths = [column.width for column in COLUMNS]
        self._offsets = self._column_offsets()
        self._now = self.clock()
        self._styles = PassStyles(self)

    # ------------------------------------------------------------------ public

    @property
    def selected_job_id(self) -> str | None:
        return self._cursor

    @property
    def selected_job(self) -> JobSnapshot | None:
        return self._jobs.get(self._cursor) if self._cursor is not None else None

    @property
    def sort_column(self) -> str:
        return COLUMNS[self._sort_index].key

    @property
    def sort_reverse(self) -> bool:
        return self._reverse

    @property
    def job_count(self) -> int:
        """All jobs held, whether or not the filter shows them."""
        return len(self._jobs)

    @property
    def row_count(self) -> int:
        """The rows shown: the jobs that pass the filter."""
        return len(self._rows)

    def state_counts(self) -> Counter[JobState]:
        """How many jobs are in each state (kept as jobs change, so this is cheap)."""
        return Counter(self._states)

    def get_job(self, job_id: str) -> JobSnapshot | None:
        return self._jobs.get(job_id)

    def job_ids(self) -> list[str]:
        """The ids of the rows in display order."""
        return [self._id_at(row) for row in range(len(self._rows))]

    def visible_job_ids(self) -> list[str]:
        """The ids of the rows on screen now."""
        first = round(self.scroll_y)
        last = min(len(self._rows), first + max(0, self.scrollable_content_region.height - 1))
        return [self._id_at(row) for row in range(first, last)]

    def set_jobs(self, jobs: Iterable[JobSnapshot]) -> None:
        """Replace every job; the cursor stays on its job if that job is still here."""
        self._jobs = {job.job_id: job for job in jobs}
        self._states = Counter(job.state for job in self._jobs.values())
        self._haystack = {}
        self._resort()

    def upsert(self, job: JobSnapshot) -> None:
        """Add or update one job; moves its row only if its sort key changed."""
        job_id = job.job_id
        old = self._jobs.get(job_id)
        self._jobs[job_id] = job
        if old is not None:
            self._states[old.state] -= 1
        self._states[job.state] += 1
        self._haystack.pop(job_id, None)
        key = self._key_of(job)
        old_key = self._keys.get(job_id)
        self._keys[job_id] = key
        moved = old_key != key
        if moved:
            if old_key is not None:
                _discard(self._all, old_key)
            insort(self._all, key)
        if self._view is not None:
            shown = old_key is not None and _contains(self._view, old_key)
            wanted = self._matches(job_id)
            if shown and (moved or not wanted):
                _discard(self._view, old_key)  # type: ignore[arg-type]
            if wanted and (moved or not shown):
                insort(self._view, key)
            moved = moved or shown != wanted
        if moved:
            self._rows_changed()
        else:
            self._refresh_job(job_id)

    def apply(self, changes: Mapping[str, JobSnapshot | None]) -> None:
        """Update or (with None) remove each job of a batch of events."""
        for job_id, job in changes.items():
            if job is None:
                self.remove(job_id)
            else:
                self.upsert(job)

    def remove(self, job_id: str) -> None:
        """Forget a job; a cursor on it moves to the row that takes its place."""
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        self._states[job.state] -= 1
        self._haystack.pop(job_id, None)
        row = self._row_of(job_id)
        key = self._keys.pop(job_id)
        _discard(self._all, key)
        if self._view is not None:
            _discard(self._view, key)
        if self._cursor == job_id:
            rows = len(self._rows)
            self._cursor = self._id_at(min(row or 0, rows - 1)) if rows else None
        self._rows_changed()

    def select(self, job_id: str, *, scroll: bool = True) -> bool:
        """Put the cursor on ``job_id`` (if it is shown) and scroll it into view."""
        if self._row_of(job_id) is None:
            return False
        self._move_cursor(job_id, scroll=scroll)
        return True

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Order the rows by ``column``; the same column again flips the direction."""
        index = COLUMN_KEYS.index(column)
        if reverse is None:
            reverse = not self._reverse if index == self._sort_index else False
        self._sort_index = index
        self._reverse = reverse
        self._resort()
        self._scroll_to_cursor()

    # ------------------------------------------------------------ key actions

    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_page_up(self) -> None:
        self._step(-max(1, self.scrollable_content_region.height - 2))

    def action_page_down(self) -> None:
        self._step(max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        if self._rows:
            self._move_cursor(self._id_at(0))

    def action_last(self) -> None:
        if self._rows:
            self._move_cursor(self._id_at(len(self._rows) - 1))

    # ------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._now = self.clock()
        self._styles.begin()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._styles.base
        if y == 0:
            strip = self._header_strip()
        else:
            row = scroll_y + y - 1
            if row < len(self._rows):
                strip = self._row_strip(row)
            elif y == 1:
                strip = self._empty_strip()
            else:
                return Strip.blank(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self) -> Strip:
        style = self._styles.full("job-table--header")
        sorted_style = style + self._styles.text("job-table--header-sorted")
        segments = [Segment(" ", style)]
        for index, (column, width) in enumerate(zip(COLUMNS, self._widths, strict=True)):
            label = column.label
            if index == self._sort_index:
                label += " ▼" if self._reverse else " ▲"
            segments.append(
                Segment(
                    _fit(label, width, column.right),
                    sorted_style if index == self._sort_index else style,
                )
            )
            segments.append(Segment(" ", style))
        return Strip(segments).extend_cell_length(self.virtual_size.width, style)

    def _row_strip(self, row: int) -> Strip:
        job_id = self._id_at(row)
        job = self._jobs[job_id]
        cursor = job_id == self._cursor
        styles = self._styles
        if cursor:
            base = styles.full("job-table--cursor")
        elif row % 2:
            base = styles.full("job-table--even-row")
        else:
            base = styles.base
        segments = [Segment(" ", base)]
        now, tz = self._now, self.tz
        for column, width in zip(COLUMNS, self._widths, strict=True):
            text, component = column.cell(job, now, tz)
            style = base
            if component is not None and not cursor:
                style = base + styles.text(component)
            segments.append(Segment(_fit(text, width, column.right), style))
            segments.append(Segment(" ", base))
        return Strip(segments).extend_cell_length(self.virtual_size.width, base)

    def _empty_strip(self) -> Strip:
        style = self._styles.full("job-table--empty")
        if self._jobs:
            text = f" No job matches {self.filter_text!r}: Escape in the filter clears it"
        else:
            text = " No jobs yet: press n to register one"
        return Strip([Segment(text, style)])

    # ----------------------------------------------------------------- events

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x = offset.x + round(self.scroll_x)
        if offset.y == 0:
            for index, start in enumerate(self._offsets):
                if start <= x < start + self._widths[index] + 1:
                    self.sort_by(COLUMNS[index].key)
                    break
            return
        row = round(self.scroll_y) + offset.y - 1
        if row >= len(self._rows):
            return
        job_id = self._id_at(row)
        if job_id == self._cursor or event.chain > 1:
            self.post_message(self.JobSelected(self, job_id))
        else:
            self._move_cursor(job_id)

    def watch_filter_text(self) -> None:
        self._refilter()

    # -------------------------------------------------------------- internals

    @property
    def _rows(self) -> list[SortKey]:
        return self._all if self._view is None else self._view

    def _id_at(self, row: int) -> str:
        rows = self._rows
        key = rows[len(rows) - 1 - row] if self._reverse else rows[row]
        return key[-1]

    def _row_of(self, job_id: str) -> int | None:
        key = self._keys.get(job_id)
        if key is None:
            return None
        rows = self._rows
        index = bisect_left(rows, key)
        if index >= len(rows) or rows[index] != key:
            return None
        return len(rows) - 1 - index if self._reverse else index

    def _key_of(self, job: JobSnapshot) -> SortKey:
        value = COLUMNS[self._sort_index].value(job)
        if value is None:
            return (1, 0, job.job_id)
        return (0, value, job.job_id)

    def _haystack_of(self, job_id: str) -> str:
        """What the filter searches, made on first use: describing every expression up
        front would delay the first frame of a big registry. The last run's status is in
        it as the status column shows it ("failed", "timed out")."""
        text = self._haystack.get(job_id)
        if text is None:
            job = self._jobs[job_id]
            status = str(job.last_status or "")
            fields = (
                job.job_id,
                job.func_ref,
                job.cron_expression,
                job.description,
                job.state,
                status,
            )
            text = self._haystack[job_id] = "\n".join(fields).casefold()
        return text

    def _matches(self, job_id: str) -> bool:
        return self.filter_text.casefold() in self._haystack_of(job_id)

    def _resort(self) -> None:
        self._keys = {job_id: self._key_of(job) for job_id, job in self._jobs.items()}
        self._all = sorted(self._keys.values())
        self._refilter()

    def _refilter(self) -> None:
        needle = self.filter_text.casefold()
        if needle:
            if len(self._haystack) < len(self._jobs):
                for job_id in self._jobs:
                    self._haystack_of(job_id)
            haystack = self._haystack
            self._view = [key for key in self._all if needle in haystack[key[-1]]]
        else:
            self._view = None
        if self._cursor is None or self._row_of(self._cursor) is None:
            self._cursor = self._id_at(0) if self._rows else None
        self._rows_changed()
        self._scroll_to_cursor()

    def _rows_changed(self) -> None:
        """The rows or their order changed: resize, redraw, and announce a new cursor."""
        if self._cursor is None and self._rows:
            self._cursor = self._id_at(0)
        set_virtual_size(self, Size(self._offsets[-1], len(self._rows) + 1))
        self.refresh()
        self._announce()

    def _refresh_job(self, job_id: str) -> None:
        row = self._row_of(job_id)
        if row is not None:
            self.refresh_line(row + 1)

    def refresh_line(self, y: int) -> None:
        """Redraw virtual line ``y`` (the header is line 0 and never scrolls)."""
        screen_y = y - round(self.scroll_y)
        if 1 <= screen_y < self.size.height:
            self.refresh(Region(0, screen_y, self.size.width, 1))

    def _step(self, delta: int) -> None:
        if not self._rows:
            return
        row = self._row_of(self._cursor) if self._cursor is not None else None
        target = 0 if row is None else max(0, min(len(self._rows) - 1, row + delta))
        self._move_cursor(self._id_at(target))

    def _move_cursor(self, job_id: str, *, scroll: bool = True) -> None:
        previous = self._cursor
        self._cursor = job_id
        if previous is not None and previous != job_id:
            self._refresh_job(previous)
        self._refresh_job(job_id)
        if scroll:
            self._scroll_to_cursor()
        self._announce()

    def _announce(self) -> None:
        if self._cursor != self._announced:
            self._announced = self._cursor
            self.post_message(self.JobHighlighted(self, self._cursor))

    def _scroll_to_cursor(self) -> None:
        row = self._row_of(self._cursor) if self._cursor is not None else None
        if row is None:
            return
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, force=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, force=True)

    def _column_offsets(self) -> list[int]:
        """Where each column starts, and (last) the full width of a row."""
        offsets, x = [], 1
        for width in self._widths:
            offsets.append(x)
            x += width + 1
        offsets.append(x)
        return offsets

    def _layout_columns(self) -> None:
        available = self.scrollable_content_region.width  # the gutter is stable (see tcss)
        fixed = 1 + sum(w + 1 for c, w in zip(COLUMNS, self._widths, strict=True) if not c.flexible)
        self._widths = [
            max(column.width, available - fixed - 1) if column.flexible else column.width
            for column in COLUMNS
        ]
        self._offsets = self._column_offsets()
        self.virtual_size = Size(self._offsets[-1], len(self._rows) + 1)
        self.refresh()


def _contains(keys: list[SortKey], key: SortKey) -> bool:
    index = bisect_left(keys, key)
    return index < len(keys) and keys[index] == key


def _discard(keys: list[SortKey], key: SortKey) -> None:
    index = bisect_left(keys, key)
    if index < len(keys) and keys[index] == key:
        del keys[index]
