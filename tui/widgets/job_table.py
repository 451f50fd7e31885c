"""JobTable: the job list as a Line API widget that draws only the rows on screen.

A DataTable builds and caches renderables for every cell of every row; at 10,000 jobs
whose countdowns tick each second that is too slow to fill and to refresh. This table
draws from a ``JobTableModel`` (``tui.job_model``: the jobs, their sorted and filtered
rows, the counts) and computes a row's cells only when ``render_line`` draws it, so a
frame costs what the screen shows, not what the table holds.

The cursor is a job id, not a row number, so it stays on its job across updates, sorts
and filters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from itertools import groupby
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jobs.core.records import Execution, ExecutionStatus, JobRow, JobSnapshot, JobState
from tui import status_style
from tui.job_model import (
    COLUMN_KEYS,
    COLUMNS,
    LARGEST_FIRST,
    JobTableModel,
    column_widths,
)
from tui.recent_runs import RecentRuns, Run
from tui.run_stats import spark
from tui.widgets._scrolling import set_virtual_size
from tui.widgets._styles import PassStyles

Clock = Callable[[], datetime]

__all__ = ["COLUMNS", "COLUMN_KEYS", "JobTable"]

#: Runs held per job on screen: as many as the widest picture column shows.
RUNS_SHOWN = max(column.width for column in COLUMNS if column.picture)
_STATUS_CLASS = status_style.component_classes("job-table")


def _status(run: Run) -> ExecutionStatus:
    return run.status


def _fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells, marking a cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    if right:
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)


def header_label(label: str, width: int, marker: str, right: bool = False) -> str:
    """A sorted column's header in ``width`` cells: the label cut before the marker is,
    so the sort's direction shows at any width."""
    if cell_len(label) + cell_len(marker) <= width:
        return _fit(label + marker, width, right)
    room = width - cell_len(marker)
    if room < 1:
        return _fit(marker.strip(), width, right)
    return _fit(label, room) + marker


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
        "job-table--trend",
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
        & > .job-table--trend { color: $primary; }
        &:light > .job-table--trend { color: $primary-darken-1; }
    }
    """

    filter_text: reactive[str] = reactive("", init=False)
    """Show only jobs whose id, function, cron, description or state contains this."""
    #: While the registry loads: how far, for the table's empty line (redrawn as it moves).
    loading_note: reactive[str] = reactive("", init=False)

    class JobHighlighted(Message):
        """The cursor moved to another job (or, with ``job_id`` None, the table emptied)."""

        def __init__(self, table: JobTable, job_id: str | None) -> None:
            super().__init__()
            self.table = table
            self.job_id = job_id

        @property
        def control(self) -> JobTable:
            return self.table

    class RunsWanted(Message):
        """Rows on screen whose recent runs the table does not hold: ask the client and
        hand them to ``show_runs`` (or to ``runs_unavailable``)."""

        def __init__(self, table: JobTable, job_ids: list[str]) -> None:
            super().__init__()
            self.table = table
            self.job_ids = job_ids

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
        self.model = JobTableModel()
        self.runs = RecentRuns(RUNS_SHOWN)
        self._unheld: list[str] = []
        self._cursor: str | None = None
        self._announced: str | None = None
        self._widths = [column.width for column in COLUMNS]
        self._laid_out_for: tuple[int, int, str] = (0, 0, "")
        self._offsets = self._column_offsets()
        self._now = self.clock()
        self._styles = PassStyles(self)

    # ------------------------------------------------------------------ public

    @property
    def selected_job_id(self) -> str | None:
        return self._cursor

    @property
    def selected_job(self) -> JobSnapshot | None:
        return self.model.get(self._cursor) if self._cursor is not None else None

    @property
    def sort_column(self) -> str:
        return self.model.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self.model.sort_reverse

    @property
    def job_count(self) -> int:
        """All jobs held, whether or not the filter shows them."""
        return self.model.job_count

    @property
    def row_count(self) -> int:
        """The rows shown: the jobs that pass the filter."""
        return self.model.row_count

    def state_counts(self) -> Counter[JobState]:
        """How many jobs are in each state (kept as jobs change, so this is cheap)."""
        return self.model.state_counts()

    def get_job(self, job_id: str) -> JobSnapshot | None:
        return self.model.get(job_id)

    def job_ids(self) -> list[str]:
        """The ids of the rows in display order."""
        return self.model.ids()

    def expressions(self) -> list[str]:
        """The distinct cron expressions of the rows, in display order."""
        return self.model.expressions()

    def visible_job_ids(self) -> list[str]:
        """The ids of the rows on screen now."""
        rows = self.model.row_count
        first = round(self.scroll_y)
        last = min(rows, first + max(0, self.scrollable_content_region.height - 1))
        return [self.model.id_at(row) for row in range(first, last)]

    def set_rows(self, rows: Iterable[JobRow]) -> None:
        """Replace every job (``SchedulerClient.get_job_rows``); the cursor stays on its
        job if that job is still here. The runs held are let go too (they are asked for
        again as rows are drawn)."""
        self.runs.clear()
        self.model.set_rows(rows)
        self._rows_reordered()

    def set_next_runs(self, times: Mapping[str, datetime | None]) -> None:
        """Each job's next run time (``JobTableModel.set_next_runs``), redrawn once."""
        if self.model.set_next_runs(times):
            self._rows_reordered()
        else:
            self.refresh()

    def upsert(self, job: JobSnapshot) -> None:
        """Add or update one job; moves its row only if its sort key changed."""
        if self.model.upsert(job):
            self._rows_changed()
        elif not self._fit_columns():
            self._refresh_job(job.job_id)

    def apply(self, changes: Mapping[str, JobSnapshot | None]) -> None:
        """Update or (with None) remove each job of a batch of events, redrawn once."""
        if not changes:
            return
        cursor_row = self._row_of(self._cursor) if self._cursor is not None else None
        moved, in_place = self.model.apply(changes)
        for job_id, job in changes.items():
            if job is None:
                self.runs.forget(job_id)
        if self._cursor is not None and self.model.row(self._cursor) is None:
            self._cursor = self._cursor_after_removal(cursor_row)
        if moved:
            self._rows_changed()
        elif not self._fit_columns():
            for job_id in in_place:
                self._refresh_job(job_id)

    def remove(self, job_id: str) -> None:
        """Forget a job; a cursor on it moves to the row that takes its place."""
        row = self._row_of(job_id)
        self.runs.forget(job_id)
        if not self.model.remove(job_id):
            return
        if self._cursor == job_id:
            self._cursor = self._cursor_after_removal(row)
        self._rows_changed()

    def show_runs(self, found: Mapping[str, Sequence[Execution]]) -> None:
        """The client's answer to ``RunsWanted``: each job's recent executions."""
        self.runs.fill(found)
        for job_id in found:
            self._refresh_job(job_id)

    def runs_unavailable(self, job_ids: Iterable[str]) -> None:
        """The client could not answer ``RunsWanted``: ask again when next drawn."""
        self.runs.not_answered(job_ids)

    def add_execution(self, execution: Execution) -> None:
        """An execution the client reported: a run that ended joins its job's strip."""
        if self.runs.add(execution):
            self._refresh_job(execution.job_id)

    def select(self, job_id: str, *, scroll: bool = True) -> bool:
        """Put the cursor on ``job_id`` (if it is shown) and scroll it into view."""
        if self._row_of(job_id) is None:
            return False
        self._move_cursor(job_id, scroll=scroll)
        return True

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Order the rows by ``column``; the same column again flips the direction."""
        if reverse is None:
            first = column in LARGEST_FIRST  # counts and durations: the largest first
            reverse = not self.sort_reverse if column == self.sort_column else first
        self.model.sort_by(column, reverse)
        self._rows_reordered()
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
        if self.model.row_count:
            self._move_cursor(self.model.id_at(0))

    def action_last(self) -> None:
        if self.model.row_count:
            self._move_cursor(self.model.id_at(self.model.row_count - 1))

    # ------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._now = self.clock()
        self._styles.begin()
        lines = super().render_lines(crop)
        if self._unheld:
            wanted = self.runs.wanted(self._unheld)
            self._unheld = []
            if wanted:
                # Made in the table's own turn: one made while the screen draws would be
                # taken as the screen's, and go no further than it.
                self.call_later(self._want, wanted)
        return lines

    def _want(self, job_ids: list[str]) -> None:
        self.post_message(self.RunsWanted(self, job_ids))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._styles.base
        if y == 0:
            strip = self._header_strip()
        else:
            row = scroll_y + y - 1
            if row < self.model.row_count:
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
        sort_index, reverse = self.model.sort_index, self.model.sort_reverse
        for index, (column, width) in enumerate(zip(COLUMNS, self._widths, strict=True)):
            if not width:
                continue
            if index == sort_index:
                text = header_label(column.label, width, " ▼" if reverse else " ▲", column.right)
            else:
                text = _fit(column.label, width, column.right)
            segments.append(Segment(text, sorted_style if index == sort_index else style))
            segments.append(Segment(" ", style))
        return Strip(segments).extend_cell_length(self.virtual_size.width, style)

    def _row_strip(self, row: int) -> Strip:
        job_id = self.model.id_at(row)
        job = self.model.row(job_id)
        assert job is not None
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
            if not width:
                continue
            if column.picture:
                segments += self._picture(column.key, job_id, width, base, cursor)
                segments.append(Segment(" ", base))
                continue
            text, component = column.cell(job, now, tz)
            style = base
            if component is not None and not cursor:
                style = base + styles.text(component)
            segments.append(Segment(_fit(text, width, column.right), style))
            segments.append(Segment(" ", base))
        return Strip(segments).extend_cell_length(self.virtual_size.width, base)

    def _picture(
        self, key: str, job_id: str, width: int, base: Style, cursor: bool
    ) -> list[Segment]:
        """A row's strip of recent runs (a glyph and tone each, the newest at the right)
        or its sparkline of durations; blank until the runs are held."""
        runs = self.runs.get(job_id)
        if runs is None:
            self._unheld.append(job_id)
            return [Segment(" " * width, base)]
        styles = self._styles
        if key == "trend":
            bars = spark([r.duration for r in runs if r.duration is not None], width)
            return [Segment(bars, base if cursor else base + styles.text("job-table--trend"))]
        shown = runs[-width:]
        segments = [Segment(" " * (width - len(shown)), base)]
        for status, group in groupby(shown, key=_status):
            style = base if cursor else base + styles.text(_STATUS_CLASS[status])
            glyphs = status_style.GLYPH[status] * sum(1 for _ in group)
            segments.append(Segment(glyphs, style))
        return segments

    def _empty_strip(self) -> Strip:
        style = self._styles.full("job-table--empty")
        if self.model.job_count:
            text = f" No job matches {self.filter_text!r}: Escape in the filter clears it"
            if self.loading_note:
                text = f" No job loaded yet matches {self.filter_text!r} ({self.loading_note})"
        elif self.loading_note:
            text = f" Loading the jobs ({self.loading_note})…"
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
            for index, start in enumerate(self._offsets[:-1]):
                width = self._widths[index]
                if width and start <= x < start + width + 1:
                    if COLUMNS[index].value is not None:  # the pictures are not sortable
                        self.sort_by(COLUMNS[index].key)
                    break
            return
        row = round(self.scroll_y) + offset.y - 1
        if row >= self.model.row_count:
            return
        job_id = self.model.id_at(row)
        if job_id == self._cursor or event.chain > 1:
            self.post_message(self.JobSelected(self, job_id))
        else:
            self._move_cursor(job_id)

    def watch_filter_text(self) -> None:
        self._refilter()

    # -------------------------------------------------------------- internals

    def _row_of(self, job_id: str) -> int | None:
        return self.model.row_of(job_id)

    def _cursor_after_removal(self, row: int | None) -> str | None:
        """The job that took the place of the cursor's row, which has gone."""
        rows = self.model.row_count
        return self.model.id_at(min(row or 0, rows - 1)) if rows else None

    def _refilter(self) -> None:
        self.model.set_filter(self.filter_text)
        self._rows_reordered()

    def _rows_reordered(self) -> None:
        """Every row may have moved: keep the cursor on its job, or the first one."""
        if self._cursor is None or self._row_of(self._cursor) is None:
            self._cursor = self.model.id_at(0) if self.model.row_count else None
        self._rows_changed()
        self._scroll_to_cursor()

    def _fit_columns(self) -> bool:
        """Lay the columns out again if the longest id or expression held changed (a
        longer one came, or ``set_rows`` replaced them all), or the sort's column (kept
        in view); True if so."""
        model = self.model
        laid_out = (model.longest_id, model.longest_cron, model.sort_column)
        if laid_out == self._laid_out_for or not self.is_mounted:
            return False
        self._layout_columns()
        return True

    def _rows_changed(self) -> None:
        """The rows or their order changed: resize, redraw, and announce a new cursor."""
        self._fit_columns()
        rows = self.model.row_count
        if self._cursor is None and rows:
            self._cursor = self.model.id_at(0)
        set_virtual_size(self, Size(self._offsets[-1], rows + 1))
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
        rows = self.model.row_count
        if not rows:
            return
        row = self._row_of(self._cursor) if self._cursor is not None else None
        target = 0 if row is None else max(0, min(rows - 1, row + delta))
        self._move_cursor(self.model.id_at(target))

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
            x += width + 1 if width else 0
        offsets.append(x)
        return offsets

    def _layout_columns(self) -> None:
        """Size the columns to the terminal and to the longest id and expression held."""
        available = self.scrollable_content_region.width  # the gutter is stable (see tcss)
        model = self.model
        self._laid_out_for = (model.longest_id, model.longest_cron, model.sort_column)
        self._widths = column_widths(available, *self._laid_out_for)
        self._offsets = self._column_offsets()
        self.virtual_size = Size(self._offsets[-1], self.model.row_count + 1)
        self.refresh()
