"""EditScheduleScreen: the `e` form: a new cron expression for one job, checked as typed.

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

from jobs.records import JobSnapshot
from tui.widgets.cron_preview import CronPreview


class EditScheduleScreen(ModalScreen[str | None]):
    """Dismisses with the new expression once the app has applied it, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form; the schedule is unchanged"),
    ]

    class Submitted(Message):
        """The user asked to reschedule ``job_id`` to ``cron``."""

        def __init__(self, form: EditScheduleScreen, job_id: str, cron: str) -> None:
            super().__init__()
            self.form = form
            self.job_id = job_id
            self.cron = cron

    def __init__(self, job: JobSnapshot, *, tz: tzinfo, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.job = job
        self.tz = tz
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form"):
            yield Label(f"Edit the schedule of {self.job.job_id}", classes="title")
            yield Static(
                f"now: {self.job.cron_expression}  ({self.job.description})", classes="field-hint"
            )
            yield Label(f"Cron expression ({self.job.timezone})", classes="field-label")
            yield Input(self.job.cron_expression, id="cron", compact=True, select_on_focus=True)
            yield CronPreview(tz=self.tz, clock=self.clock, id="cron-error", classes="preview")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Static("Enter: save · Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(CronPreview).show(self.job.cron_expression)

    def show_error(self, message: str) -> None:
        """Show why the service refused the expression."""
        self.query_one("#cron", Input).add_class("-invalid")
        self.query_one(CronPreview).show_error(message)
        self.query_one("#cron", Input).focus()

    @property
    def error(self) -> str:
        return self.query_one(CronPreview).error or ""

    @on(Input.Changed, "#cron")
    def _cron_changed(self, event: Input.Changed) -> None:
        valid = self.query_one(CronPreview).show(event.value)
        event.input.set_class(not valid and bool(event.value.strip()), "-invalid")

    @on(Input.Submitted, "#cron")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        value = self.query_one("#cron", Input).value
        self.post_message(self.Submitted(self, self.job.job_id, value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
