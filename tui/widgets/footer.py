"""Textual's Footer, without the leak in its recompose (Textual issue #6666)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

#: Keys kept in view at any width, at the right beside the palette's: a narrow terminal
#: cuts the others from the right, and these are how to learn the rest and how to leave.
PINNED = frozenset({"help", "quit", "app.help", "app.quit"})


class Footer(TextualFooter):
    """The key bar, with help and quit pinned to its right end (``PINNED``).

    Textual's recomposes on every change of focus, binding its new keys
    to its ``compact`` reactive; the old keys' watchers, and with them the old keys and
    all their styles, stay until ``compact`` changes, which it never does here. Opening
    and closing the filter 50 times kept 650 dead keys alive, and every full garbage
    collection walked them. ``mutate_reactive`` runs Textual's own pruning of watchers
    whose widgets have closed (and sets the same value again on the live keys).
    """

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(TextualFooter.compact)

    def compose(self) -> ComposeResult:
        pinned = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and (
                widget.action in PINNED or widget.has_class("-command-palette")
            ):
                pinned.append(widget)
            else:
                yield widget
        if pinned:
            yield HorizontalGroup(*pinned, classes="footer--pinned")
