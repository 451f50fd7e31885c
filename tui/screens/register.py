"""RegisterScreen: the `n` form: job id, function, cron expression, checked as you type.

The form does not register anything itself. On Enter in the last field it posts
``Submitted``; the app asks the service, and either dismisses the form with the new
job's id or calls ``show_error`` with the service's own message under the field at fault,
so the words a user reads are the service's, and nothing is registered on a refusal.
Suggestions for the function are found without importing anything (``funcs.discover``):
only submitting imports the module named, and the field's label says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from jobs.core.errors import DuplicateJobError
from tui.text import literal
from tui.widgets.cron_preview import CronPreview

Field = Literal["job_id", "func", "cron"]


class RegisterScreen(ModalScreen[str | None]):
    """Dismisses with the registered job's id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form; nothing is registered"),
    ]

    class Submitted(Message):
        """The user asked to register this job; the app answers with dismiss or show_error."""

        def __init__(self, form: RegisterScreen, job_id: str, func: str, cron: str) -> None:
            super().__init__()
            self.form = form
            self.job_id = job_id
            self.func = func
            self.cron = cron

    def __init__(
        self,
        *,
        functions: Sequence[str],
        tz: tzinfo,
        clock: Callable[[], datetime],
        is_taken: Callable[[str], bool],
    ) -> None:
        super().__init__()
        self.functions = list(functions)
        self.tz = tz
        self.clock = clock
        self.is_taken = is_taken

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form"):
            yield Label("Register a job", classes="title")
            yield Label("Job id", classes="field-label")
            yield Input(id="job_id", placeholder="e.g. cleanup_expired_tokens", compact=True)
            yield Static("", id="job_id-error", classes="field-error")
            yield Label(
                "Function (module:function; Register imports its module)",
                id="func-label",
                classes="field-label",
            )
            yield Input(
                id="func",
                placeholder="e.g. jobs.cleanup:cleanup_expired_tokens",
                suggester=SuggestFromList(self.functions, case_sensitive=False),
                compact=True,
            )
            yield Static(self._function_hint(""), id="func-error", classes="field-hint")
            yield Label("Cron expression", classes="field-label")
            yield Input(id="cron", placeholder="e.g. */5 * * * *", compact=True)
            yield CronPreview(tz=self.tz, clock=self.clock, id="cron-error", classes="preview")
            with Horizontal(classes="buttons"):
                yield Button("Register", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Static("Tab: next field · →: take suggestion · Esc: cancel", classes="hint")

    # ------------------------------------------------------------------ public

    def show_error(self, field: Field, message: str) -> None:
        """Show ``message`` under ``field`` and put the cursor there."""
        target = self.query_one(f"#{field}", Input)
        target.add_class("-invalid")
        note = self.query_one(f"#{field}-error")
        if isinstance(note, CronPreview):
            note.show_error(message)
        else:
            note.update(literal(message))  # it quotes what was typed
            note.add_class("-error")
        target.focus()

    def field_error(self, field: Field) -> str:
        """The text under ``field`` when it shows an error, else empty (for tests)."""
        note = self.query_one(f"#{field}-error")
        if isinstance(note, CronPreview):
            return note.error or ""
        return str(note.render()) if note.has_class("-error") else ""

    # ----------------------------------------------------------------- events

    @on(Input.Changed, "#job_id")
    def _job_id_changed(self, event: Input.Changed) -> None:
        value = event.value
        if value and self.is_taken(value):
            self.show_error("job_id", str(DuplicateJobError(value)))
            return
        self._clear("job_id")

    @on(Input.Changed, "#func")
    def _func_changed(self, event: Input.Changed) -> None:
        self._clear("func")
        self.query_one("#func-error", Static).update(self._function_hint(event.value))

    @on(Input.Changed, "#cron")
    def _cron_changed(self, event: Input.Changed) -> None:
        valid = self.query_one(CronPreview).show(event.value)
        event.input.set_class(not valid and bool(event.value.strip()), "-invalid")

    @on(Input.Submitted, "#job_id")
    def _job_id_submitted(self) -> None:
        self.query_one("#func", Input).focus()

    @on(Input.Submitted, "#func")
    def _func_submitted(self) -> None:
        self.query_one("#cron", Input).focus()

    @on(Input.Submitted, "#cron")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        self.post_message(
            self.Submitted(
                self,
                self.query_one("#job_id", Input).value,
                self.query_one("#func", Input).value.strip(),
                self.query_one("#cron", Input).value,
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    # -------------------------------------------------------------- internals

    def _clear(self, field: Field) -> None:
        self.query_one(f"#{field}", Input).remove_class("-invalid")
        note = self.query_one(f"#{field}-error", Static)
        note.remove_class("-error")
        if field == "job_id":
            note.update("")

    def _function_hint(self, typed: str) -> Content:
        if not self.functions:
            return literal("no job functions found in the registry's package; type module:function")
        needle = typed.strip().casefold()
        matches = [ref for ref in self.functions if needle in ref.casefold()]
        if not matches:
            return literal("no suggestion matches; any importable module:function works")
        shown = ", ".join(matches[:2])
        more = f" and {len(matches) - 2} more" if len(matches) > 2 else ""
        return literal(f"suggestions: {shown}{more}")
