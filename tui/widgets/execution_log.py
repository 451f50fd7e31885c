"""ExecutionLog: one line per execution event, newest at the bottom, bounded in memory.

Like the job table it draws with the Line API: entries are kept as the service's frozen
Execution and SchedulerEvent values in a deque, and a line is formatted only when it is
on screen, so 100 executions a second cost an append each, not a render each. Ids, errors
and messages are drawn as segments (never parsed as markup) with their control
characters made visible.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jobs.core.records import EventKind, Execution, ExecutionStatus, SchedulerEvent, Trigger
from tui import plain_text, status_style
from tui.plain_text import visible
from tui.widgets._scrolling import set_virtual_size
from tui.widgets._styles import PassStyles

Entry = Execution | SchedulerEvent
Clock = Callable[[], datetime]

#: Entries kept; older ones are dropped (the state file keeps the full history).
MAX_ENTRIES = 1000
#: The job id column widens to the longest id seen, within these bounds; a longer id is
#: cut with an ellipsis so that the columns after it stay in line.
ID_WIDTH_MIN, ID_WIDTH_MAX = 16, 32
#: The status column: "interrupted" and "timed out" are the longest words.
STATUS_WIDTH = 11
DURATION_WIDTH = 8

_STATUS_CLASS = status_style.component_classes("execution-log")

_EVENT_CLASS = {
    EventKind.WARNING: "execution-log--warning",
    EventKind.STATE_ERROR: "execution-log--error",
}


def entry_time(entry: Entry) -> datetime | None:
    if isinstance(entry, SchedulerEvent):
        return entry.at
    return entry.ended_at or entry.started_at or entry.scheduled_time


def _event_detail(event: SchedulerEvent) -> str:
    if event.kind is EventKind.JOB_REMOVED:
        return ""  # the line says it: "<id>  removed"
    if event.kind is EventKind.JOB_ADDED and event.job is not None:
        return f"{event.job.func_ref}  {event.job.cron_expression}"
    if event.kind is EventKind.JOB_RESCHEDULED:
        return f"to {event.message}"
    return event.message


def _cell(text: str, width: int) -> str:
    return f"{text:<{width}}" if len(text) <= width else f"{text[: width - 1]}…"


class ExecutionLog(ScrollView, can_focus=True):
    """The log pane. ``scope`` None shows every job; a job id shows only that job.

    Focused, it has a cursor (the newest line until moved): enter on an execution's line
    says ``ExecutionChosen``. Scrolled away from the newest lines, its subtitle counts the
    lines that arrived below.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_first", "Oldest", show=False),
        Binding("end", "cursor_last", "Newest", show=False),
        Binding("enter", "choose", "Open run", tooltip="This execution's whole output"),
    ]

    class ExecutionChosen(Message):
        """Enter on an execution's line: its newest record in the log."""

        def __init__(self, execution: Execution) -> None:
            super().__init__()
            self.execution = execution

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "execution-log--cursor",
        "execution-log--time",
        "execution-log--success",
        "execution-log--error",
        "execution-log--warning",
        "execution-log--running",
        "execution-log--muted",
    }

    DEFAULT_CSS = """
    ExecutionLog {
        & > .execution-log--cursor { background: $block-cursor-background; }
        & > .execution-log--time { color: $foreground-muted; }
        & > .execution-log--success { color: $text-success; }
        & > .execution-log--error { color: $text-error; }
        & > .execution-log--warning { color: $text-warning; }
        & > .execution-log--running { color: $text-primary; }
        & > .execution-log--muted { color: $foreground-muted; }
    }
    """

    scope: reactive[str | None] = reactive(None, init=False)

    def __init__(
        self,
        *,
        tz: tzinfo = UTC,
        clock: Clock | None = None,
        max_entries: int = MAX_ENTRIES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tz = tz
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.max_entries = max_entries
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._scoped: deque[Entry] = deque(maxlen=max_entries)
        self._today = self.clock().astimezone(tz).date()
        self._styles = PassStyles(self)
        self._id_width = ID_WIDTH_MIN
        #: Whether new lines scroll into view: the user's choice, not derived from the
        #: scroll position, which is stale until a layout has sized the pane.
        self._follow = True
        #: The cursor's line in the entries shown; None: the newest, whichever that is.
        self._cursor: int | None = None
        #: Lines that arrived below while the user read further up.
        self._unseen = 0
        self._update_title()

    # ------------------------------------------------------------------ public

    @property
    def lines(self) -> list[str]:
        """The plain text of every line in the current scope (for tests and copying)."""
        return [self._text(entry) for entry in self._shown]

    def load(self, entries: Iterable[Entry]) -> None:
        """Replace the log with ``entries``, oldest first (e.g. history at start-up)."""
        self._entries = deque(entries, maxlen=self.max_entries)
        longest = max((len(e.job_id or "") for e in self._entries), default=0)
        self._id_width = max(ID_WIDTH_MIN, min(ID_WIDTH_MAX, longest))
        if self.scope is not None:
            self._scoped = deque(
                (e for e in self._entries if e.job_id == self.scope), maxlen=self.max_entries
            )
        self._cursor = None
        self._changed(follow=True)

    def add(self, entry: Entry) -> None:
        """Append one entry; cheap, since it runs for every execution event."""
        self._append(self._entries, entry)
        if self.scope is not None and entry.job_id == self.scope:
            self._append(self._scoped, entry)

    def show_job(self, job_id: str | None, history: Iterable[Entry] = ()) -> None:
        """Scope the log to one job, starting from ``history`` (oldest first), or to all."""
        if job_id is not None:
            seen = list(history)
            newest = entry_time(seen[-1]) if seen else None
            live = [
                e
                for e in self._entries
                if e.job_id == job_id and (newest is None or (entry_time(e) or newest) > newest)
            ]
            self._scoped = deque(seen + live, maxlen=self.max_entries)
        self.set_reactive(ExecutionLog.scope, job_id)
        self._cursor = None
        self._update_title()
        self._changed(follow=True)

    # ------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._today = self.clock().astimezone(self.tz).date()
        self._styles.begin()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._styles.base
        shown = self._shown
        index = scroll_y + y
        if index >= len(shown):
            if index == 0:
                empty = (
                    f" no executions of {visible(self.scope)} yet"
                    if self.scope
                    else " no executions yet"
                )
                muted = base + self._styles.text("execution-log--muted")
                return Strip([Segment(empty, muted)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        segments = self._segments(shown[index], base)
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
        if index == self.cursor_line and self.has_focus:
            cursor = self._styles.full("execution-log--cursor")
            strip = strip.apply_style(Style(bgcolor=cursor.bgcolor))
        return strip

    def _segments(self, entry: Entry, base: Style) -> list[Segment]:
        def styled(name: str) -> Style:
            return base + self._styles.text(name)

        when = entry_time(entry)
        segments = [Segment(f" {self._clock_text(when)}  ", styled("execution-log--time"))]
        if isinstance(entry, SchedulerEvent):
            style = styled(_EVENT_CLASS.get(entry.kind, "execution-log--muted"))
            kind = str(entry.kind).removeprefix("scheduler ").removeprefix("job ")
            subject = visible(entry.job_id) if entry.job_id else "scheduler"
            segments.append(Segment(f"{_cell(subject, self._id_width)} ", base))
            segments.append(Segment(_cell(kind, STATUS_WIDTH), style))
            if detail := _event_detail(entry):
                segments.append(Segment(f"{'':>{DURATION_WIDTH}}  {visible(detail)}", style))
            return segments
        look = styled(_STATUS_CLASS[entry.status])
        status = "started" if entry.status is ExecutionStatus.RUNNING else str(entry.status)
        segments.append(Segment(f"{_cell(visible(entry.job_id), self._id_width)} ", base))
        segments.append(Segment(f"{status:<{STATUS_WIDTH}}", look))
        took = (
            "" if entry.status is ExecutionStatus.RUNNING else plain_text.duration(entry.duration)
        )
        segments.append(Segment(f"{took:>{DURATION_WIDTH}}", base))
        if entry.trigger is Trigger.MANUAL:
            segments.append(Segment("  run now", styled("execution-log--muted")))
        if entry.error_line:
            error_style = look if entry.status.is_failure else styled("execution-log--warning")
            segments.append(Segment(f"  {visible(entry.error_line)}", error_style))
        for warning in entry.warnings:
            segments.append(
                Segment(f"  warning: {visible(warning)}", styled("execution-log--warning"))
            )
        return segments

    def _text(self, entry: Entry) -> str:
        return "".join(segment.text for segment in self._segments(entry, Style()))

    def _clock_text(self, when: datetime | None) -> str:
        if when is None:
            return " " * 8
        local = when.astimezone(self.tz)
        if local.date() == self._today:
            return local.strftime("%H:%M:%S")
        return local.strftime("%Y-%m-%d %H:%M:%S")

    # -------------------------------------------------------------- internals

    @property
    def _shown(self) -> deque[Entry]:
        return self._entries if self.scope is None else self._scoped

    def _append(self, entries: deque[Entry], entry: Entry) -> None:
        if entry.job_id and len(entry.job_id) > self._id_width:
            self._id_width = min(ID_WIDTH_MAX, len(entry.job_id))
        full = len(entries) == entries.maxlen
        entries.append(entry)
        if entries is self._shown:
            following = self._follow
            if full and self._cursor is not None:
                self._cursor = max(0, self._cursor - 1)
            if full and not following and self.scroll_y > 0:
                # Keep the lines the user is reading in place as the oldest drop off.
                self.scroll_to(y=self.scroll_y - 1, animate=False, force=True)
            if not following:
                self._unseen += 1
                self._update_subtitle()
            self._changed(follow=following)

    def _changed(self, *, follow: bool) -> None:
        set_virtual_size(self, Size(self.size.width, len(self._shown)))
        if follow:
            self._follow = True
            self._scroll_to_end()
        self.refresh()

    # ----------------------------------------------------------------- cursor

    @property
    def cursor_line(self) -> int:
        """The cursor's line among those shown (the newest when it follows)."""
        last = len(self._shown) - 1
        return last if self._cursor is None else min(self._cursor, last)

    @property
    def chosen(self) -> Entry | None:
        shown = self._shown
        return shown[self.cursor_line] if shown else None

    def _move_cursor(self, line: int) -> None:
        shown = len(self._shown)
        if not shown:
            return
        line = max(0, min(shown - 1, line))
        self._cursor = None if line == shown - 1 else line
        height = max(1, self.scrollable_content_region.height)
        if self._cursor is None:
            self._changed(follow=True)
            return
        if line < self.scroll_y:
            self.scroll_to(y=line, animate=False, force=True)
        elif line >= self.scroll_y + height:
            self.scroll_to(y=line - height + 1, animate=False, force=True)
        self.refresh()

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor_line - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor_line + 1)

    def action_cursor_page(self, pages: int) -> None:
        self._move_cursor(self.cursor_line + pages * max(1, self.scrollable_content_region.height))

    def action_cursor_first(self) -> None:
        self._move_cursor(0)

    def action_cursor_last(self) -> None:
        self._move_cursor(len(self._shown) - 1)

    def action_choose(self) -> None:
        entry = self.chosen
        if not isinstance(entry, Execution):
            return
        # The newest record of that run: a started line opens the run as it ended.
        for later in reversed(self._entries):
            if isinstance(later, Execution) and later.id == entry.id:
                entry = later
                break
        self.post_message(self.ExecutionChosen(entry))

    def _update_subtitle(self) -> None:
        unseen = self._unseen
        self.border_subtitle = (
            f"↓ {unseen:,} new line{'s' if unseen != 1 else ''}" if unseen else ""
        )

    def _scroll_to_end(self) -> None:
        # force: when the lines have just outgrown the pane, the vertical scrollbar appears
        # only at the next layout, and until then Textual refuses to scroll a view without
        # one. Before the first layout the pane has no height and this goes past the end;
        # the layout clamps it back to the last line.
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if not self.show_vertical_scrollbar:
            # Textual moves the thumb only while the scrollbar is shown.
            self.call_after_refresh(self._place_thumb)

    def _place_thumb(self) -> None:
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # The user scrolling (or a layout clamping the position) moves it; lines added or
        # a pane resized do not, so following stays what the user last chose.
        self._follow = round(new_value) >= self.max_scroll_y
        if self._follow and self._unseen:
            self._unseen = 0
            self._update_subtitle()

    def on_resize(self) -> None:
        if self._follow:
            self._scroll_to_end()

    def watch_scope(self) -> None:
        self._update_title()

    def _update_title(self) -> None:
        scope = Content(visible(self.scope)) if self.scope else Content("all jobs")
        self.border_title = Content.assemble("Log: ", scope)  # an id is text, not markup
