"""Component styles for Line API widgets that paint text over their own row backgrounds."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def text_style(widget: Widget, component: str) -> Style:
    """The component's text attributes and colour, without its background.

    A partial style keeps a translucent colour such as ``$foreground-muted`` unblended,
    so it would draw at full strength; the full style has it blended against the widget's
    background. Taking the colour from the full one and the rest from the partial one lets
    a row's own background (zebra, cursor) show while muted text still looks muted.
    """
    full = widget.get_component_rich_style(component)
    partial = widget.get_component_rich_style(component, partial=True)
    return partial + Style(color=full.color)


class PassStyles:
    """A widget's styles, looked up once per render pass instead of once per line.

    Textual recomputes ``rich_style`` from the ancestors' styles on every access: a fifth
    of the time of drawing a page of the job table went there.
    """

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._cache: dict[tuple[str, bool], Style] = {}
        self.base = Style()

    def begin(self) -> None:
        """Start a pass: styles may have changed (theme, focus) since the last one."""
        self._cache.clear()
        self.base = self._widget.rich_style

    def full(self, component: str) -> Style:
        """The component's style, background included (a cursor, a header)."""
        key = (component, True)
        style = self._cache.get(key)
        if style is None:
            style = self._cache[key] = self._widget.get_component_rich_style(component)
        return style

    def text(self, component: str) -> Style:
        """The component's text style without its background: see ``text_style``."""
        key = (component, False)
        style = self._cache.get(key)
        if style is None:
            style = self._cache[key] = text_style(self._widget, component)
        return style
