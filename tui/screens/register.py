"""RegisterScreen: the `n` form: job id, function, cron expression, and optionally a
description, a time zone and a timeout, checked as you type.

The form does not register anything itself. On Enter it posts ``Submitted``; the app asks
the service, and either dismisses the form with the new job's id or calls ``show_error``
with the service's own message under the field at fault, so the words a user reads are
the service's, and nothing is registered on a refusal. What it checks before asking (the
empty required fields, all at once, and the lengths as they are typed) it checks with the
library's own functions, so those words are the service's too.

Suggestions for the function and the zone complete by prefix, and the function's hint
lists the same matches in the same order, its first being what → takes. They are found
without importing anything (``funcs.discover``): only submitting imports the module
named, and the field's label says so.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

from jobs.core import cron, funcs, job_options
from jobs.core.errors import DuplicateJobError, InvalidJobError
from tui.text import literal
from tui.widgets.cron_preview import CronPreview

Field = Literal["job_id", "func", "cron", "description", "timezone", "timeout"]
#: The fields in the order of the form (and of Tab); the first three are required.
FIELDS: tuple[Field, ...] = ("job_id", "func", "cron", "description", "timezone", "timeout")
REQUIRED: tuple[Field, ...] = FIELDS[:3]
#: Fire times previewed under the expression: fewer on a short terminal, so that the
#: whole form fits at 24 rows.
PREVIEW_TALL, PREVIEW_SHORT, SHORT_ROWS = 5, 3, 32


class _Form(VerticalScroll, can_focus=False):
    """The dialog: it scrolls when a short terminal or a long error needs it, and Tab
    goes from field to field, never to it."""


@lru_cache(maxsize=1)
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def matches(choices: Sequence[str], typed: str) -> list[str]:
    """The choices ``typed`` is the start of, ignoring case, in their order: the rule
    ``SuggestFromList`` completes by, so the first is what → takes."""
    needle = typed.casefold()
    return [choice for choice in choices if choice.casefold().startswith(needle)]


class RegisterScreen(ModalScreen[str | None]):
    """Dismisses with the registered job's id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the form; nothing is registered"),
    ]

    class Submitted(Message):
        """The user asked to register this job; the app answers with dismiss or show_error.
        The optional fields are as typed (empty: not given)."""

        def __init__(
            self,
            form: RegisterScreen,
            job_id: str,
            func: str,
            cron: str,
            *,
            description: str = "",
            timezone: str = "",
            timeout: str = "",
        ) -> None:
            super().__init__()
            self.form = form
            self.job_id = job_id
            self.func = func
            self.cron = cron
            self.description = description
            self.timezone = timezone
            self.timeout = timeout

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
        zone = getattr(self.tz, "key", None) or str(self.tz)
        count = PREVIEW_SHORT if self.app.size.height < SHORT_ROWS else PREVIEW_TALL
        with _Form(id="dialog", classes="form"):
            yield Label("Register a job", classes="title")
            yield Label(
                f"Job id (at most {job_options.MAX_ID_LENGTH} characters)", classes="field-label"
            )
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
            preview = CronPreview(
                tz=self.tz, clock=self.clock, count=count, id="cron-error", classes="preview"
            )
            preview.styles.height = count + 1  # the description, then a line a time
            yield preview
            yield Label(
                "Description (optional: shown instead of the schedule in words)",
                classes="field-label",
            )
            yield Input(id="description", placeholder="e.g. Nightly sales report", compact=True)
            yield Static("", id="description-error", classes="field-error")
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label(f"Time zone (empty: {zone})", classes="field-label")
                    yield Input(
                        id="timezone",
                        placeholder="e.g. Europe/London",
                        suggester=SuggestFromList(_zones(), case_sensitive=False),
                        compact=True,
                    )
                    yield Static("", id="timezone-error", classes="field-error")
                with Vertical():
                    yield Label("Timeout in seconds (empty: default)", classes="field-label")
                    yield Input(id="timeout", placeholder="e.g. 300", compact=True)
                    yield Static("", id="timeout-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Register", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
                yield Static("Tab: next field · →: take suggestion · Esc: cancel", classes="hint")

    # ------------------------------------------------------------------ public

    def show_error(self, field: Field, message: str, *, focus: bool = True) -> None:
        """Show ``message`` under ``field`` and (with ``focus``) put the cursor there."""
        target = self.query_one(f"#{field}", Input)
        target.add_class("-invalid")
        note = self.query_one(f"#{field}-error")
        if isinstance(note, CronPreview):
            note.show_error(message)
        else:
            note.update(literal(message))  # it quotes what was typed
            note.add_class("-error")
        if focus:
            target.focus()

    def field_error(self, field: Field) -> str:
        """The text under ``field`` when it shows an error, else empty (for tests)."""
        note = self.query_one(f"#{field}-error")
        if isinstance(note, CronPreview):
            return note.error or ""
        return str(note.render()) if note.has_class("-error") else ""

    def value(self, field: Field) -> str:
        return self.query_one(f"#{field}", Input).value

    # ----------------------------------------------------------------- events

    @on(Input.Changed, "#job_id")
    def _job_id_changed(self, event: Input.Changed) -> None:
        value = event.value
        problem = _typed_id_problem(value)
        if problem is None and value and self.is_taken(value):
            problem = str(DuplicateJobError(value))
        if problem is not None:
            self.show_error("job_id", problem, focus=False)
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

    @on(Input.Changed, "#description")
    def _description_changed(self, event: Input.Changed) -> None:
        try:
            job_options.check_description(self.value("job_id"), event.value)
        except InvalidJobError as exc:
            self.show_error("description", str(exc), focus=False)
            return
        self._clear("description")

    @on(Input.Changed, "#timezone")
    def _timezone_changed(self, event: Input.Changed) -> None:
        """The preview follows the zone typed, once it is one."""
        self._clear("timezone")
        preview = self.query_one(CronPreview)
        try:
            zone: tzinfo = cron.zone(event.value) if event.value else self.tz
        except cron.TimezoneError:
            return
        if zone is not preview.tz:
            preview.tz = zone
            preview.show(self.value("cron"))

    @on(Input.Changed, "#timeout")
    def _timeout_changed(self) -> None:
        self._clear("timeout")

    @on(Input.Submitted, "#job_id")
    def _job_id_submitted(self) -> None:
        self.query_one("#func", Input).focus()

    @on(Input.Submitted, "#func")
    def _func_submitted(self) -> None:
        self.query_one("#cron", Input).focus()

    @on(Input.Submitted, "#cron, #description, #timezone, #timeout")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        empty = [field for field in REQUIRED if not self.value(field).strip()]
        if empty:
            for field in empty:
                self.show_error(field, _empty_error(field), focus=False)
            self.query_one(f"#{empty[0]}", Input).focus()
            return
        self.post_message(
            self.Submitted(
                self,
                self.value("job_id"),
                self.value("func").strip(),
                self.value("cron"),
                description=self.value("description"),
                timezone=self.value("timezone"),
                timeout=self.value("timeout"),
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
        if field != "func":  # the function's line is its hint, rewritten as it is typed
            note.update("")

    def _function_hint(self, typed: str) -> Content:
        if not self.functions:
            return literal("no job functions found in the registry's package; type module:function")
        found = matches(self.functions, typed)
        if not found:
            return literal("no suggestion starts with this; any importable module:function works")
        more = f" (and {len(found) - 1:,} more)" if len(found) > 1 else ""
        if not typed:
            return literal(f"type the start of one, e.g. {found[0]}{more}")
        return literal(f"→ takes {found[0]}{more}")


def _typed_id_problem(value: str) -> str | None:
    """What the service would say of the id typed so far, but for spaces at its ends (the
    next key may be a letter: those are for the submit to refuse)."""
    text = value.strip()
    if not text:
        return None
    try:
        job_options.check_job_id(text)
    except InvalidJobError as exc:
        return str(exc)
    return None


def _empty_error(field: Field) -> str:
    """The service's words for an empty required field, found without importing anything
    (an empty reference is refused before any import)."""
    try:
        if field == "job_id":
            job_options.check_job_id("")
        elif field == "func":
            funcs.resolve("")
        else:
            cron.parse("")
    except InvalidJobError as exc:
        return str(exc)
    except cron.CronError as exc:
        return exc.reason
    raise AssertionError(f"an empty {field} was accepted")
