"""OutputScreen: one execution's whole output and traceback, full screen, searchable.

What people open a job console for is what a run printed and why it failed; the detail
view shows the first lines of each run, this shows all of one. The output sits in a
read-only TextArea, which draws only the lines in view (64 KiB of output is thousands of
lines) and moves a selection to each match; the traceback is drawn by Rich's Python
traceback lexer. The text is the job's: control characters are made visible before any
widget sees it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from datetime import tzinfo
from typing import ClassVar

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from jobs.core.records import Execution, Trigger
from tui import plain_text, status_style
from tui.plain_text import visible
from tui.widgets.footer import Footer

DEFAULT_PAGER = "less"
_STYLES = status_style.theme_styles()


class OutputScreen(Screen[None]):
    """One execution; ``/`` searches its output, ``n``/``N`` step through the matches."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", tooltip="Back"),
        Binding("slash", "search", "Search", tooltip="Search the output"),
        Binding("n", "next_match", "Next", tooltip="The next match"),
        Binding("N", "previous_match", "Previous", tooltip="The previous match"),
        Binding("v", "pager", "Pager", tooltip="Open the whole execution in $PAGER"),
    ]

    def __init__(self, execution: Execution, *, tz: tzinfo) -> None:
        super().__init__()
        self.execution = execution
        self.tz = tz
        self._query = ""
        self._matches: list[tuple[int, int]] = []
        self._match = -1
        self._traceback = ""

    @property
    def execution_id(self) -> int:
        return self.execution.id

    def compose(self) -> ComposeResult:
        with Vertical(id="output-view"):
            yield Static(id="output-title", classes="title")
            yield Static(id="output-facts")
            yield TextArea(
                id="output-text", read_only=True, show_line_numbers=True, soft_wrap=False
            )
            with VerticalScroll(id="output-traceback"):
                yield Static(id="output-traceback-text")
            yield Static(id="output-search-status")
            yield Input(id="output-search", placeholder="search the output; enter finds")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#output-search", Input).display = False
        self.show(self.execution)
        self.query_one("#output-text", TextArea).focus()

    # ------------------------------------------------------------------ public

    def show(self, execution: Execution) -> None:
        """Redraw for ``execution`` (the same run, later: it may have ended meanwhile)."""
        self.execution = e = execution
        style = _STYLES.get(e.status, "$text-warning")
        self.query_one("#output-title", Static).update(
            Content.assemble(
                (f"#{e.id}  ", "bold"),
                (visible(e.job_id), "bold"),
                "  ",
                (str(e.status), f"bold {style}"),
            )
        )
        self.query_one("#output-facts", Static).update(Content(self._facts(e)))
        area = self.query_one("#output-text", TextArea)
        text = visible(e.output.rstrip("\n"), lines=True) if e.output else ""
        if area.text != text:
            area.load_text(text)
        area.display = bool(text)
        trace = self.query_one("#output-traceback", VerticalScroll)
        trace.display = bool(e.traceback)
        self._traceback = code = visible((e.traceback or "").rstrip("\n"), lines=True)
        if code:
            self.query_one("#output-traceback-text", Static).update(
                Syntax(code, "pytb", theme="ansi_dark", word_wrap=True, background_color="default")
            )
        self._find(self._query, keep=True)

    @property
    def text(self) -> str:
        """The output as shown (for tests)."""
        return self.query_one("#output-text", TextArea).text

    @property
    def traceback_text(self) -> str:
        """The traceback as shown, without its colours (for tests)."""
        return self._traceback

    # ----------------------------------------------------------------- search

    def action_search(self) -> None:
        search = self.query_one("#output-search", Input)
        search.display = True
        search.value = self._query
        search.focus()

    @on(Input.Submitted, "#output-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._find(event.value)
        self._match = -1
        self._step(1)
        self._close_search()

    def _close_search(self) -> None:
        self.query_one("#output-search", Input).display = False
        self.query_one("#output-text", TextArea).focus()

    def action_close(self) -> None:
        if self.query_one("#output-search", Input).has_focus:
            self._close_search()
            return
        self.dismiss(None)

    def action_next_match(self) -> None:
        self._step(1)

    def action_previous_match(self) -> None:
        self._step(-1)

    def _find(self, query: str, *, keep: bool = False) -> None:
        """Every match of ``query``: ignoring case unless it has a capital (like less -i)."""
        self._query = query
        self._matches = []
        if query:
            fold = query == query.lower()
            needle = query.lower() if fold else query
            for row, line in enumerate(self.text.split("\n")):
                haystack = line.lower() if fold else line
                start = haystack.find(needle)
                while start != -1:
                    self._matches.append((row, start))
                    start = haystack.find(needle, start + max(len(needle), 1))
        if not keep:
            self._match = -1
        self._say_where()

    def _step(self, direction: int) -> None:
        if not self._matches:
            self._say_where()
            return
        self._match = (self._match + direction) % len(self._matches)
        row, column = self._matches[self._match]
        area = self.query_one("#output-text", TextArea)
        area.selection = Selection((row, column), (row, column + len(self._query)))
        area.scroll_cursor_visible(center=True)
        self._say_where()

    def _say_where(self) -> None:
        status = self.query_one("#output-search-status", Static)
        if not self._query:
            status.update("")
        elif not self._matches:
            missing = Content.assemble(("no match for ", "$text-warning"), visible(self._query))
            status.update(missing)
        else:
            count = len(self._matches)
            where = f"{count} matches"
            if self._match >= 0:
                where = f"match {self._match + 1} of {count}"
            status.update(Content.assemble(f"{where} for ", visible(self._query), "  (n/N)"))

    # ------------------------------------------------------------------ pager

    def action_pager(self) -> None:
        """The whole execution in the user's pager; the console waits, then comes back."""
        pager = os.environ.get("PAGER") or DEFAULT_PAGER
        report = plain_text.execution_report(self.execution, self.tz) + "\n"
        try:
            command = shlex.split(pager)
        except ValueError as exc:
            self.notify(
                f"PAGER={visible(pager)} cannot be read: {exc}", severity="error", markup=False
            )
            return
        if not command:
            command = [DEFAULT_PAGER]
        try:
            with self.app.suspend():
                subprocess.run(command, input=report, text=True, check=False)
        except OSError as exc:
            self.notify(
                f"PAGER={visible(pager)} cannot be run: {visible(str(exc))}",
                severity="error",
                markup=False,
            )
        except SuspendNotSupported:
            self.notify("cannot open a pager here: no terminal to hand over", severity="warning")

    # -------------------------------------------------------------- internals

    def _facts(self, e: Execution) -> str:
        facts = []
        if e.started_at is not None:
            facts.append(f"started {plain_text.clock(e.started_at, self.tz)}")
        elif e.scheduled_time is not None:
            facts.append(f"due {plain_text.clock(e.scheduled_time, self.tz)}")
        if e.trigger is Trigger.MANUAL:
            facts.append("run now")
        if e.duration is not None:
            facts.append(f"took {plain_text.duration(e.duration)}")
        if e.lateness is not None and e.trigger is Trigger.SCHEDULE and e.lateness > 0:
            facts.append(f"{e.lateness * 1000:.0f} ms late")
        lines = len(e.output.rstrip("\n").split("\n")) if e.output else 0
        facts.append(
            f"{lines:,} line{'s' if lines != 1 else ''} of output" if lines else "no output"
        )
        if e.output_truncated:
            facts.append("cut at the capture limit")
        text = " · ".join(facts)
        if e.error:
            text += "\n" + visible(e.error.splitlines()[0])
        for warning in e.warnings:
            text += "\nwarning: " + visible(warning)
        return text
