"""How text that did not come from the program reaches a Textual surface: as `Content`.

Ids, descriptions, errors, captured output and what was typed are the user's text. Given
to a widget as a ``str`` they would be parsed as markup: an unbalanced ``[/]`` crashes
the console, ``[b]`` vanishes and ``[@click=app.quit]`` runs an action when clicked. So
they go in as `Content`, which is never parsed, with control characters made visible
(``tui.plain_text.visible``); program words that style them are a template whose ``$name``
slots take the user's values as written. Notifications take ``markup=False`` and the same
visible text (``JobConsoleApp._notify``); Line API widgets draw segments, which are never
parsed, from ``visible`` text.
"""

from __future__ import annotations

from textual.content import Content

from tui.plain_text import visible


def literal(text: str, *, lines: bool = False) -> Content:
    """``text`` as written; ``lines`` keeps its newlines and tabs (see ``visible``)."""
    return Content(visible(text, lines=lines))


def template(markup: str, **values: str) -> Content:
    """The program's ``markup`` with each ``$name`` replaced by ``values[name]`` as written."""
    return Content.from_markup(markup, **{name: visible(v) for name, v in values.items()})
