"""HelpScreen: every key, generated from the bindings the caller passes in.

The app hands over ``(section, bindings)`` pairs taken from the widgets' and its own
BINDINGS, so this list can never drift from what the keys do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.status_style import GLYPH, THEME_VARIABLE, TONE

Section = tuple[str, Sequence[Binding]]


def help_rows(
    bindings: Iterable[Binding], key_display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """``(keys, description, tooltip)`` per action; keys of one action are joined."""
    by_action: dict[str, tuple[list[str], Binding]] = {}
    for binding in bindings:
        keys = by_action.setdefault(binding.action, ([], binding))[0]
        display = key_display(binding)
        if display not in keys:
            keys.append(display)
    return [
        (" ".join(keys), first.description, first.tooltip or "")
        for keys, first in by_action.values()
    ]


def runs_legend() -> Content:
    """What each cell of a row's ``recent`` strip means, drawn as the strip draws it."""
    parts: list[tuple[str, str] | str] = [("\nIn the recent column", "bold $text-accent")]
    for status, glyph in GLYPH.items():
        if status.is_final:  # the strip holds finished runs
            parts.append("\n  ")
            parts.append((glyph, f"bold {THEME_VARIABLE[TONE[status]]}"))
            parts.append(f"  {status}")
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys by section; any of its own keys closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", tooltip="Close the help"),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label("Keys", classes="title")
            with VerticalScroll():
                yield Static(self._render_sections(), id="help-keys")
                yield Static(runs_legend(), id="help-legend")
            palette = self.app.COMMAND_PALETTE_BINDING
            yield Static(
                f"Every action is also in the command palette ({palette}). Escape closes.",
                classes="hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)

    def _render_sections(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        rows = [help_rows(bindings, self.app.get_key_display) for _, bindings in self.sections]
        # A space at least after the longest description, so it never runs into its tooltip.
        width = max([13, *(len(row[1]) for section in rows for row in section)]) + 1
        for index, ((title, _), section) in enumerate(zip(self.sections, rows, strict=True)):
            parts.append((("\n\n" if index else "") + title, "bold $text-accent"))
            for keys, description, tooltip in section:
                parts.append("\n  ")
                parts.append((f"{keys:<14}", "bold"))
                parts.append(description.ljust(width))
                if tooltip:
                    parts.append((tooltip, "$foreground-muted"))
        return Content.assemble(*parts)
