"""FilterBar: the `/` input that narrows the job table as you type."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input


class FilterBar(Input):
    """An Input whose Escape clears the filter and gives focus back (posts Closed)."""

    # Input sets its virtual width from the text on every keystroke, and Widget declares
    # it a layout reactive: each keystroke laid out the whole screen, the biggest cost of
    # a filter keystroke at 10,000 jobs. The bar's size never depends on its text
    # (``width: 1fr; height: 1`` in app.tcss), so a repaint is enough.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Clear filter", tooltip="Clear the filter and close it"),
    ]

    class Closed(Message):
        """The user left the filter with Escape: it is cleared."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: id, function, cron, description or state · "
            "Enter keeps it · Escape clears",
            id=id,
            compact=True,
        )

    def action_close(self) -> None:
        self.value = ""
        self.post_message(self.Closed())
