"""Job functions whose text is hostile: markup, terminal escapes, forged lines.

Importable as ``tests.jobfuncs_hostile:name``; the console and the CLI must show what
they print and raise literally, and never let it style, click or drive the terminal.
"""

from __future__ import annotations

#: Textual markup that would crash a parser (unbalanced closing tags), vanish (a tag it
#: knows) or run an action when clicked.
MARKUP = "[/] [/bold] [b]not bold[/b] [@click=app.quit]click me[/]"
#: Terminal control: set the window title, clear the screen, overwrite the line, write
#: the clipboard (OSC 52), ring the bell, and a C1 CSI.
ESCAPES = "\x1b]0;PWNED\x07\x1b[2Jcleared\roverwritten\x1b]52;c;aGk=\x07\x9b31m\x7f"


async def shouts_markup() -> None:
    print(f"out: {MARKUP}")
    raise ValueError(f"err: {MARKUP}")


async def writes_escapes() -> None:
    print(f"out: {ESCAPES}")
    raise RuntimeError(f"err: {ESCAPES}")
