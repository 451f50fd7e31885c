"""Textual's Footer, without the leak in its recompose (Textual issue #6666)."""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """The key bar. Textual's recomposes on every change of focus, binding its new keys
    to its ``compact`` reactive; the old keys' watchers, and with them the old keys and
    all their styles, stay until ``compact`` changes, which it never does here. Opening
    and closing the filter 50 times kept 650 dead keys alive, and every full garbage
    collection walked them. ``mutate_reactive`` runs Textual's own pruning of watchers
    whose widgets have closed (and sets the same value again on the live keys).
    """

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(TextualFooter.compact)
