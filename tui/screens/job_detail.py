"""JobDetailScreen: one job's configuration, next 10 fire times and recent executions.

The screen renders what it is given. The app fills it when it opens and calls ``show``
again whenever the service reports something about this job, so a run started from here
appears here as it starts and again, with its output or traceback, when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from jobs.core import job_options
from jobs.core.records import Execution, JobSnapshot, JobSource, Trigger
from tui import plain_text, status_style
from tui.plain_text import visible
from tui.widgets.footer import Footer

#: Lines of captured output shown for the newest execution and for each older one (the
#: first ones; the rest are counted), and characters shown of one line. Twenty executions
#: of 64 KiB each took seconds to lay out; `jobconsole history` is not the place for it
#: either, so the cut is only here.
OUTPUT_LINES = 200
OLDER_OUTPUT_LINES = 10
LINE_CHARS = 400

_STATUS_STYLE = status_style.theme_styles()


class JobDetailScreen(ModalScreen[None]):
    """Everything about one job, its recent runs first; keys act on it without closing the
    view, and enter on a run opens it whole (``RunChosen``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", tooltip="Back to the job table"),
        Binding("o", "app.output", "Output", tooltip="This job's latest output, whole"),
        Binding("t", "app.run_now", "Run now", tooltip="Run this job now"),
        Binding("p", "app.pause", "Pause", tooltip="Pause this job"),
        Binding("r", "app.resume", "Resume", tooltip="Resume this job"),
        Binding("e", "app.edit", "Edit cron", tooltip="Edit this job's cron expression"),
    ]

    class RunChosen(Message):
        """Enter on one of the recent runs."""

        def __init__(self, execution: Execution) -> None:
            super().__init__()
            self.execution = execution

    def __init__(
        self,
        job: JobSnapshot,
        next_times: Sequence[datetime],
        executions: Sequence[Execution],
        *,
        tz: tzinfo,
    ) -> None:
        super().__init__()
        self.job_id = job.job_id
        self.tz = tz
        self._data: tuple[JobSnapshot | None, Sequence[datetime], Sequence[Execution]] = (
            job,
            next_times,
            executions,
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(id="detail-title", classes="title")
            yield Static(id="executions")
            # The runs scroll on their own, so the configuration below stays in reach.
            yield OptionList(id="runs")
            with VerticalScroll(id="detail-body"):
                yield Static(id="config")
                yield Static(id="fire-times")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(*self._data)
        runs = self.query_one("#runs", OptionList)
        (runs if runs.option_count else self.query_one("#detail-body")).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    # ------------------------------------------------------------------ public

    def show(
        self,
        job: JobSnapshot | None,
        next_times: Sequence[datetime],
        executions: Sequence[Execution],
    ) -> None:
        """Redraw from fresh data; ``job`` None means the job was removed meanwhile."""
        self._data = (job, next_times, executions)
        try:
            title = self.query_one("#detail-title", Static)
        except NoMatches:  # not composed yet: on_mount shows the data
            return
        name = visible(self.job_id)
        if job is None:
            title.update(Content.assemble((name, "bold"), ("  removed", "$text-error")))
        else:
            title.update(Content.assemble((name, "bold"), "  ", _state(job)))
            self.query_one("#config", Static).update(self._config(job))
        self.query_one("#fire-times", Static).update(self._fire_times(job, next_times))
        self._show_runs(executions, can_run=job is None or job.state != "error")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = next((e for e in self._data[2] if str(e.id) == event.option_id), None)
        if chosen is not None:
            self.post_message(self.RunChosen(chosen))

    @property
    def text(self) -> str:
        """The plain text shown (for tests), top to bottom."""
        runs = self.query_one("#runs", OptionList)
        prompts = [str(runs.get_option_at_index(i).prompt) for i in range(runs.option_count)]
        texts = [
            str(self.query_one(part, Static).render()) for part in ("#detail-title", "#executions")
        ]
        texts += prompts
        texts += [str(self.query_one(part, Static).render()) for part in ("#config", "#fire-times")]
        return "\n".join(texts)

    # -------------------------------------------------------------- internals

    def _config(self, job: JobSnapshot) -> Content:
        options = job.options
        rows = [
            ("function", job.func_ref),
            ("cron", f"{job.cron_expression}  ({job.description})"),
            *((o.label, o.text(getattr(options, o.name))) for o in job_options.SHOWN),
            (
                "defined in",
                "the registry" if job.source is JobSource.REGISTRY else "the console (stored)",
            ),
            ("runs", f"{job.run_count}, {job.failure_count} failed"),
        ]
        if job.last_status is not None:
            rows.append(
                (
                    "last run",
                    f"{plain_text.clock(job.last_run_time, self.tz)}  {job.last_status}"
                    f"  {plain_text.duration(job.last_duration)}",
                )
            )
        if job.error:
            rows.append(("error", job.error))
        parts: list[tuple[str, str] | str] = [("\nConfiguration", "bold underline")]
        for label, value in rows:
            style = "$text-error" if label == "error" else ""
            parts += [("\n  " + f"{label:<11}", "$foreground-muted"), (visible(value), style)]
        return Content.assemble(*parts)

    def _fire_times(self, job: JobSnapshot | None, times: Sequence[datetime]) -> Content:
        parts: list[tuple[str, str] | str] = [("\nNext 10 fire times", "bold underline")]
        if job is not None and job.state == "error":
            parts.append(("  (none: it cannot run until its error is fixed)", "$text-warning"))
        elif job is not None and job.next_run_time is None:
            why = f"the job is {job.state}" if job.state != "scheduled" else "scheduling is off"
            parts.append((f"  ({why}: it would run at these times)", "$text-warning"))
        if not times:
            parts.append("\n  none")
        for when in times:
            local = when.astimezone(self.tz)
            parts.append(f"\n  {local:%a %Y-%m-%d %H:%M:%S %Z}")
        return Content.assemble(*parts)

    def _show_runs(self, executions: Sequence[Execution], can_run: bool = True) -> None:
        heading: list[tuple[str, str] | str] = [("Recent executions", "bold underline")]
        if executions:
            heading.append(("  (enter opens one whole)", "$foreground-muted"))
        else:
            heading.append("\n  none yet: press t to run it now" if can_run else "\n  none")
        self.query_one("#executions", Static).update(Content.assemble(*heading))
        runs = self.query_one("#runs", OptionList)
        highlighted = runs.highlighted
        runs.clear_options()
        runs.add_options(
            Option(
                Content.assemble(
                    *self._execution(execution, OUTPUT_LINES if index == 0 else OLDER_OUTPUT_LINES),
                    "\n",  # a blank line between runs
                ),
                id=str(execution.id),
            )
            for index, execution in enumerate(executions)
        )
        runs.display = bool(executions)
        if executions:
            runs.highlighted = min(highlighted or 0, len(executions) - 1)

    def _execution(self, execution: Execution, shown: int) -> list[tuple[str, str] | str]:
        style = _STATUS_STYLE.get(execution.status, "$text-warning")
        when = execution.started_at or execution.scheduled_time
        head = [f"#{execution.id}  ", (str(execution.status), f"bold {style}")]
        facts = [plain_text.clock(when, self.tz)]
        if execution.trigger is Trigger.MANUAL:
            facts.append("run now")
        if execution.duration is not None:
            facts.append(f"took {plain_text.duration(execution.duration)}")
        if execution.lateness is not None and execution.trigger is Trigger.SCHEDULE:
            facts.append(f"{execution.lateness * 1000:.0f} ms late")
        head.append("  " + " · ".join(facts))
        body: list[tuple[str, str] | str] = []
        if execution.error:
            body.append((f"\n  {visible(execution.error, lines=True)}", style))
        for warning in execution.warnings:
            body.append((f"\n  warning: {visible(warning)}", "$text-warning"))
        if execution.output:
            lines = _lines(execution.output)
            body.append(("\n  output:", "$foreground-muted"))
            body += [f"\n  │ {_cut(line)}" for line in lines[:shown]]
            if len(lines) > shown:
                more = len(lines) - shown
                body.append((f"\n  │ … {more:,} more lines", "$foreground-muted"))
        if execution.traceback:
            body.append(("\n  traceback:", "$foreground-muted"))
            body += [(f"\n  │ {line}", style) for line in _lines(execution.traceback)]
        return head + body


def _lines(text: str) -> list[str]:
    """Output or a traceback as the lines it was written in, control characters visible:
    only a newline starts a line (a CR does not take the line back, and a form feed or
    U+2028 breaks nothing)."""
    return visible(text.rstrip("\n"), lines=True).split("\n")


def _cut(line: str) -> str:
    return line if len(line) <= LINE_CHARS else f"{line[:LINE_CHARS]}… ({len(line):,} characters)"


def _state(job: JobSnapshot) -> tuple[str, str]:
    styles = {"running": "$text-primary", "paused": "$text-warning", "error": "$text-error"}
    return str(job.state), f"bold {styles.get(job.state, '$text-success')}"
