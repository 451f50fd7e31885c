"""SortScreen: the sort menu, a key per column (as lazygit's menus; k9s users find each
column one keystroke away after `s`).

`s` opens it; a column's key sorts by that column (counts and durations largest first),
the current column's key again reverses it, and arrows with enter work too. The keys are
the menu's BINDINGS, made from the table's columns, so the help lists them and a column
added to the table gets a key of its own without an edit here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.job_model import COLUMNS, LARGEST_FIRST, SORTABLE, Column

#: Each column's key in the menu, by the letter its label is known by.
PREFERRED = {
    "id": "i",
    "cron": "c",
    "state": "s",
    "next": "n",
    "status": "u",
    "last": "l",
    "duration": "t",
    "runs": "r",
    "fails": "f",
    "description": "d",
}
_CLOSE_KEYS = frozenset({"escape", "q"})


def sort_keys(columns: Iterable[Column]) -> dict[str, str]:
    """A key per column: its ``PREFERRED`` one, else the first letter of its label (or a
    digit) that no other column has, so that a new column is never left without one."""
    keys: dict[str, str] = {}
    columns = list(columns)
    taken = set(_CLOSE_KEYS)
    for column in columns:
        key = PREFERRED.get(column.key)
        if key is not None and key not in taken:
            keys[column.key] = key
            taken.add(key)
    for column in columns:
        if column.key in keys:
            continue
        spare = [c for c in column.label.lower() + "0123456789" if c.isalnum() and c not in taken]
        if spare:
            keys[column.key] = spare[0]
            taken.add(spare[0])
    return keys


SORT_KEYS = sort_keys(column for column in COLUMNS if column.key in SORTABLE)
_LABELS = {column.key: column.label for column in COLUMNS}


def _tooltip(key: str) -> str:
    order = "largest first" if key in LARGEST_FIRST else "A to Z, soonest or oldest first"
    return f"Sort by {_LABELS[key]} ({order}); again reverses"


class SortScreen(ModalScreen[str | None]):
    """Dismisses with the column chosen (the app sorts by it), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(letter, f"choose('{column}')", _LABELS[column], tooltip=_tooltip(column))
            for column, letter in SORT_KEYS.items()
        ),
        Binding("escape,q", "close", "Close", tooltip="Keep the sort as it is"),
    ]

    def __init__(self, current: str, reverse: bool) -> None:
        super().__init__()
        self.current = current
        self.reverse = reverse

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="sort"):
            yield Label("Sort by", classes="title")
            yield OptionList(*self._options(), id="sort-columns")
            yield Static("a key, or ↑ ↓ and enter; again reverses", classes="hint")

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        keys = list(SORT_KEYS)
        menu.highlighted = keys.index(self.current) if self.current in keys else 0
        menu.focus()

    def _options(self) -> list[Option]:
        options = []
        for column, letter in SORT_KEYS.items():
            parts: list[tuple[str, str] | str] = [(f"{letter}  ", "bold $text-accent")]
            parts.append(_LABELS[column])
            if column == self.current:
                parts.append((" ▼" if self.reverse else " ▲", "$text-accent"))
            elif column in LARGEST_FIRST:
                parts.append(("  largest first", "$foreground-muted"))
            options.append(Option(Content.assemble(*parts), id=column))
        return options

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_id)

    def action_choose(self, column: str) -> None:
        self.dismiss(column)

    def action_close(self) -> None:
        self.dismiss(None)
