"""JobDetailScreen: one job's recent runs, charted and listed, its configuration and next
10 fire times.

The screen renders what it is given. The app fills it when it opens and calls ``show``
again whenever the service reports something about this job, so a run started from here
appears here as it starts and again, with its output or traceback, when it ends.

On top, the last runs' durations as a chart (Textual's Sparkline: it follows the theme and
draws a hundred runs in microseconds) between the longest and shortest of them, and the
figures ``tui.run_stats`` works out: how many succeeded, p50 and p95 duration, mean
lateness.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from jobs.core import job_options
from jobs.core.records import Execution, JobSnapshot, JobSource, Trigger
from tui import plain_text, run_stats, status_style
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
        Binding("E", "app.toggle_enabled", "Enable/disable", tooltip="Enable or disable this job"),
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
        self._trend: Sequence[Execution] = ()

    def compose(self) -> ComposeResult:
        from textual.widgets import Sparkline  # with statistics: not for the first frame

        with Vertical(id="detail"):
            yield Static(id="detail-title", classes="title")
            yield Static(id="trend-figures")
            with Horizontal(id="trend"):
                yield Static(id="trend-axis")
                yield Sparkline([], id="durations")
            yield Static(id="executions")
            # The runs scroll on their own, so the configuration below stays in reach.
            yield OptionList(id="runs")
            with VerticalScroll(id="detail-body"):
                yield Static(id="config")
                yield Static(id="fire-times")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(*self._data)
        self.show_trend(self._trend)
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

    def show_trend(self, runs: Sequence[Execution]) -> None:
        """Chart and sum up ``runs`` (the last ones, newest first; their summaries do)."""
        self._trend = runs
        try:
            figures = self.query_one("#trend-figures", Static)
        except NoMatches:  # not composed yet: on_mount shows them
            return
        from textual.widgets import Sparkline

        stats = run_stats.run_stats(runs)
        figures.update(_figures(stats))
        chart = self.query_one("#durations", Sparkline)
        chart.data = stats.durations
        chart.styles.max_width = len(stats.durations)  # a bar a run, while they fit
        self.query_one("#trend").display = bool(stats.durations)
        longest, shortest = max(stats.durations, default=0), min(stats.durations, default=0)
        axis = f"{plain_text.duration(longest):>7}\n\n{plain_text.duration(shortest):>7}"
        self.query_one("#trend-axis", Static).update(Content.styled(axis, "$foreground-muted"))

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
        parts = ("#detail-title", "#trend-figures", "#trend-axis", "#executions")
        texts = [str(self.query_one(part, Static).render()) for part in parts]
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


def _figures(stats: run_stats.RunStats) -> Content:
    """``Last 20 runs  19 succeeded (95%) · 1 failed │ took p50 0.41s · p95 1.20s │ 3 ms
    late on average``: what the chart below it cannot say."""
    if not stats.looked_at:
        return Content.assemble(("Last runs", "bold underline"), "  none yet")
    runs = "Last run" if stats.looked_at == 1 else f"Last {stats.looked_at} runs"
    parts: list[tuple[str, str] | str] = [(runs, "bold underline")]
    counts = []
    if stats.success_rate is not None:
        rate = f"{stats.success_rate:.0%}"
        counts.append((f"{stats.succeeded} succeeded ({rate})", "$text-success"))
    for number, what, style in (
        (stats.failed, "failed", "$text-error"),
        (stats.missed, "missed", "$text-warning"),
        (stats.skipped, "skipped", "$text-warning"),
    ):
        if number:
            counts.append((f"{number} {what}", style))
    for index, count in enumerate(counts):
        parts += ["  " if index == 0 else " · ", count]
    if stats.p50 is not None and stats.p95 is not None:
        took = f"took p50 {plain_text.duration(stats.p50)} · p95 {plain_text.duration(stats.p95)}"
        parts += [("  │  ", "$foreground-muted"), took]
    if stats.mean_lateness is not None:
        parts += [("  │  ", "$foreground-muted"), f"{_late(stats.mean_lateness)} late on average"]
    return Content.assemble(*parts)


def _late(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if abs(seconds) < 1 else plain_text.duration(seconds)


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
