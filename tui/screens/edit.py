"""EditScheduleScreen: the `e` form: a job's cron expression (checked as typed) and timeout.

Like the register form it only asks: it posts ``Submitted`` and the app reschedules the
job through the service, then dismisses it or shows the service's error under the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from jobs.core.records import JobSnapshot
from tui.text import literal, template
from tui.widgets.cron_preview import CronPreview


class EditScheduleScreen(ModalScreen[str | None]):
    """Dismisses with the new expression once the app has applied it, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form; the schedule is unchanged"),
    ]

    class Submitted(Message):
        """The user asked for ``cron`` and ``timeout`` (as typed) on ``job_id``."""

        def __init__(self, form: EditScheduleScreen, job_id: str, cron: str, timeout: str) -> None:
            super().__init__()
            self.form = form
            self.job_id = job_id
            self.cron = cron
            self.timeout = timeout

    def __init__(self, job: JobSnapshot, *, tz: tzinfo, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.job = job
        self.tz = tz
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form"):
            job = self.job
            yield Label(template("Edit the schedule of $id", id=job.job_id), classes="title")
            yield Static(
                template("now: $cron  ($about)", cron=job.cron_expression, about=job.description),
                classes="field-hint",
            )
            yield Label(
                template("Cron expression ($zone)", zone=job.timezone), classes="field-label"
            )
            yield Input(self.job.cron_expression, id="cron", compact=True, select_on_focus=True)
            yield CronPreview(tz=self.tz, clock=self.clock, id="cron-error", classes="preview")
            yield Label("Timeout in seconds (empty: none)", classes="field-label")
            current = self.job.timeout_seconds
            yield Input(
                f"{current:g}" if current is not None else "",
                id="timeout",
                placeholder="none",
                compact=True,
                select_on_focus=True,
            )
            yield Static("", id="timeout-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Static("Tab: next field · Enter: save · Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(CronPreview).show(self.job.cron_expression)

    def show_error(self, message: str) -> None:
        """Show why the service refused the expression."""
        self.query_one("#cron", Input).add_class("-invalid")
        self.query_one(CronPreview).show_error(message)
        self.query_one("#cron", Input).focus()

    def show_timeout_error(self, message: str) -> None:
        self.query_one("#timeout", Input).add_class("-invalid")
        note = self.query_one("#timeout-error", Static)
        note.update(literal(message))  # it quotes what was typed
        note.add_class("-error")
        self.query_one("#timeout", Input).focus()

    @on(Input.Changed, "#timeout")
    def _timeout_changed(self, event: Input.Changed) -> None:
        event.input.remove_class("-invalid")
        note = self.query_one("#timeout-error", Static)
        note.update("")
        note.remove_class("-error")

    @property
    def error(self) -> str:
        return self.query_one(CronPreview).error or ""

    @on(Input.Changed, "#cron")
    def _cron_changed(self, event: Input.Changed) -> None:
        valid = self.query_one(CronPreview).show(event.value)
        event.input.set_class(not valid and bool(event.value.strip()), "-invalid")

    @on(Input.Submitted, "#cron")
    @on(Input.Submitted, "#timeout")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        value = self.query_one("#cron", Input).value
        timeout = self.query_one("#timeout", Input).value
        self.post_message(self.Submitted(self, self.job.job_id, value, timeout))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
