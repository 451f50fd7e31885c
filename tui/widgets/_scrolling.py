"""Resizing a Line API ScrollView without laying out the whole screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """Set ``view.virtual_size``, skipping the screen layout when nothing else moves.

    ``virtual_size`` is a layout reactive: assigning it lays out the whole screen. A table
    whose row count changes on every filter keystroke, or a log that grows by a line per
    execution, paid a full layout each time. While the width stays and the vertical
    scrollbar neither appears nor goes, only the view and its scrollbar need redrawing.
    """
    old = view.virtual_size
    if size == old:
        return
    window = view.container_size.height
    if size.width != old.width or (size.height > window) != (old.height > window):
        view.virtual_size = size
        return
    view.set_reactive(Widget.virtual_size, size)
    view._scroll_update(size)  # what Textual runs after a layout: scrollbars, scroll bounds
    view.refresh()
