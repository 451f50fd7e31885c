"""The terminal belongs to the console while it runs.

A job's own child processes inherit file descriptors 1 and 2 and write to them directly,
past any capture in Python: the text landed in the middle of the console's frame. While
the console runs, descriptors 1 and 2 point at a file instead, and Textual draws on a
duplicate of the terminal's descriptor that no child inherits.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def own_terminal(output: Path, append: bool = False) -> Iterator[Path | None]:
    """Send descriptors 1 and 2 to ``output`` (emptied first, unless ``append``) and give
    Textual the terminal.

    Yields the file in use, or None when it cannot be opened or stdio is not a terminal
    (then nothing changes). Everything is put back on the way out.
    """
    stderr = sys.__stderr__
    if stderr is None or not stderr.isatty():
        yield None
        return
    try:
        keep = os.O_APPEND if append else os.O_TRUNC
        sink = os.open(output, os.O_WRONLY | os.O_CREAT | keep | os.O_CLOEXEC, 0o600)
    except OSError:
        yield None
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    saved = (os.dup(1), os.dup(2))
    # Unbuffered like sys.stderr: a buffered writer on a terminal loses text it could
    # only partly write.
    terminal = io.TextIOWrapper(
        io.FileIO(os.dup(2), "w"),
        encoding=stderr.encoding,
        errors=stderr.errors,
        write_through=True,
    )
    os.set_inheritable(terminal.fileno(), False)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.close(sink)
    stdout = sys.__stdout__
    # Textual's driver writes to sys.__stderr__ and sizes the screen from sys.__stdout__.
    sys.__stderr__ = sys.__stdout__ = terminal
    try:
        yield output
    finally:
        sys.__stderr__, sys.__stdout__ = stderr, stdout
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                with suppress(OSError, ValueError):
                    stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        terminal.close()
