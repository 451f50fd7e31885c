"""The command palette's provider: the console's actions by name, read from its bindings."""

from __future__ import annotations

from functools import partial
from typing import Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider


class HasPaletteCommands(Protocol):
    def palette_commands(self) -> list[tuple[str, str, str]]: ...


class JobCommands(Provider):
    """Every console key's action by name; the app lists them (``palette_commands``) from
    its BINDINGS, so the palette, the footer and the help never disagree."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        assert hasattr(app, "palette_commands")
        source: HasPaletteCommands = app  # type: ignore[assignment]
        return source.palette_commands()

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
