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
