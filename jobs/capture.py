"""Per-execution capture of stdout, stderr and logging.

The console owns the terminal, so nothing a job prints or logs may reach it directly.
While capture is installed, ``sys.stdout``/``sys.stderr`` are routers that write to the
buffer of the execution running in the current context (a ContextVar, so concurrent
jobs, async or threaded, each get their own) and pass anything else through. Buffers are
bounded: a job printing megabytes keeps its first ``limit`` bytes and a count of the rest.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

_current: ContextVar[OutputBuffer | None] = ContextVar("jobconsole_output", default=None)


class OutputBuffer:
    """What one execution wrote, up to ``limit`` characters."""

    __slots__ = ("_lock", "_parts", "_size", "dropped", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            room = self.limit - self._size
            if room >= len(text):
                self._parts.append(text)
                self._size += len(text)
            else:
                if room > 0:
                    self._parts.append(text[:room])
                    self._size += room
                self.dropped += len(text) - max(room, 0)
        return len(text)

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def getvalue(self) -> str:
        with self._lock:
            text = "".join(self._parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped:,} more characters were not kept]\n"
        return text


@contextmanager
def capturing(buffer: OutputBuffer) -> Iterator[OutputBuffer]:
    """Route this context's output into ``buffer``."""
    token = _current.set(buffer)
    try:
        yield buffer
    finally:
        _current.reset(token)


def current() -> OutputBuffer | None:
    return _current.get()


class _StreamRouter(io.TextIOBase):
    def __init__(self, fallback: TextIO) -> None:
        super().__init__()
        self.fallback = fallback

    def write(self, text: str) -> int:
        buffer = _current.get()
        if buffer is not None:
            return buffer.write(text)
        return self.fallback.write(text)

    def flush(self) -> None:
        if _current.get() is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        return False if _current.get() is not None else self.fallback.isatty()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")


class _CaptureHandler(logging.Handler):
    """Copies log records emitted inside an execution into its buffer."""

    def emit(self, record: logging.LogRecord) -> None:
        buffer = _current.get()
        if buffer is not None:
            try:
                buffer.write(self.format(record) + "\n")
            except Exception:
                self.handleError(record)


class _NotWhileCapturing(logging.Filter):
    """Keeps a job's records off handlers that write to the real terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _current.get() is None


_lock = threading.Lock()
_installs = 0
_saved: tuple[TextIO, TextIO] | None = None
_handler = _CaptureHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
_filter = _NotWhileCapturing()
_filtered: list[logging.Handler] = []


def install() -> None:
    """Start routing (reference counted, so several services can share the process)."""
    global _installs, _saved
    with _lock:
        _installs += 1
        if _installs > 1:
            return
        _saved = (sys.stdout, sys.stderr)
        sys.stdout = _StreamRouter(sys.stdout)  # type: ignore[assignment]
        sys.stderr = _StreamRouter(sys.stderr)  # type: ignore[assignment]
        root = logging.getLogger()
        for handler in root.handlers:
            if handler is not _handler:
                handler.addFilter(_filter)
                _filtered.append(handler)
        root.addHandler(_handler)


def uninstall() -> None:
    global _installs, _saved
    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs:
            return
        if _saved is not None:
            if isinstance(sys.stdout, _StreamRouter):
                sys.stdout = _saved[0]
            if isinstance(sys.stderr, _StreamRouter):
                sys.stderr = _saved[1]
            _saved = None
        root = logging.getLogger()
        root.removeHandler(_handler)
        for handler in _filtered:
            handler.removeFilter(_filter)
        _filtered.clear()
