"""Per-execution capture of stdout, stderr and logging.

The console owns the terminal, so nothing a job prints or logs may reach it directly.
While capture is installed, ``sys.stdout``/``sys.stderr`` are routers that write to the
buffer of the execution running in the current context (a ContextVar, so concurrent
jobs, async or threaded, each get their own) and pass anything else through; so do their
``buffer`` attributes, for bytes (decoded with the stream's encoding). Buffers are
bounded: a job printing megabytes keeps its first ``limit`` bytes and a count of the rest.

What a job's child processes write to file descriptors 1 and 2 goes straight to the
terminal: capturing it per execution would need process-wide descriptor redirection.
"""

from __future__ import annotations

import codecs
import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TextIO

_current: ContextVar[OutputBuffer | None] = ContextVar("jobconsole_output", default=None)


class OutputBuffer:
    """What one execution wrote, up to ``limit`` characters."""

    __slots__ = ("_decoder", "_lock", "_parts", "_size", "dropped", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._decoder: codecs.IncrementalDecoder | None = None

    def write(self, text: str) -> int:
        with self._lock:
            self._add(text)
        return len(text)

    def write_bytes(self, data: bytes, encoding: str) -> int:
        """Bytes written to ``sys.stdout.buffer``: decoded as they come, so a character
        split across two writes is kept whole; undecodable bytes become U+FFFD."""
        with self._lock:
            if self._decoder is None:
                self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
            self._add(self._decoder.decode(bytes(data)))
        return len(data)

    def _add(self, text: str) -> None:
        room = self.limit - self._size
        if room >= len(text):
            self._parts.append(text)
            self._size += len(text)
        else:
            if room > 0:
                self._parts.append(text[:room])
                self._size += room
            self.dropped += len(text) - max(room, 0)

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def getvalue(self) -> str:
        with self._lock:
            if self._decoder is not None:  # bytes left mid-character end the output as U+FFFD
                self._add(self._decoder.decode(b"", final=True))
                self._decoder.reset()
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


def route(buffer: OutputBuffer) -> Token[OutputBuffer | None]:
    """``capturing`` for code that cannot use a ``with``: pass the result to ``unroute``."""
    return _current.set(buffer)


def unroute(token: Token[OutputBuffer | None]) -> None:
    _current.reset(token)


def current() -> OutputBuffer | None:
    return _current.get()


class _StreamRouter(io.TextIOBase):
    def __init__(self, fallback: TextIO) -> None:
        super().__init__()
        self.fallback = fallback
        self._bytes = _BytesRouter(self)

    @property
    def buffer(self) -> _BytesRouter:
        """Bytes go where text would: chosen at each write, as for text (a job may have
        kept ``sys.stdout.buffer`` from before it ran)."""
        return self._bytes

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
        return getattr(self.fallback, "encoding", None) or "utf-8"


class _BytesRouter(io.BufferedIOBase):
    """``sys.stdout.buffer`` while capture is installed: see ``_StreamRouter.buffer``."""

    def __init__(self, text: _StreamRouter) -> None:
        super().__init__()
        self._text = text

    def write(self, data: bytes) -> int:  # type: ignore[override]
        buffer = _current.get()
        if buffer is not None:
            return buffer.write_bytes(data, self._text.encoding)
        real = getattr(self._text.fallback, "buffer", None)
        if real is not None:
            return real.write(data)
        self._text.fallback.write(bytes(data).decode(self._text.encoding, errors="replace"))
        return len(data)

    def flush(self) -> None:
        if _current.get() is None:
            real = getattr(self._text.fallback, "buffer", None)
            (real if real is not None else self._text.fallback).flush()

    def isatty(self) -> bool:
        return self._text.isatty()

    def writable(self) -> bool:
        return True


#: Loggers whose records are the program's own diagnostics, never a job's output.
_OWN_LOGGERS = ("jobconsole", "apscheduler")


class _CaptureHandler(logging.Handler):
    """Copies log records emitted inside an execution into its buffer.

    Being on the root logger, it also stands between every record and logging's last
    resort (which prints warnings to stderr when no handler is configured): a record it
    does not capture goes there, as it would have without us.
    """

    def emit(self, record: logging.LogRecord) -> None:
        buffer = _current.get()
        if buffer is not None and not _is_own(record.name):
            try:
                buffer.write(self.format(record) + "\n")
            except Exception:
                self.handleError(record)
        else:
            _last_resort(record)


def _is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in _OWN_LOGGERS)


def _last_resort(record: logging.LogRecord) -> None:
    """What logging does with a record no handler takes, written to the real stderr (the
    router would put it in the running job's output)."""
    last = logging.lastResort
    if last is None or record.levelno < last.level:
        return
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        if any(handler is not _handler for handler in logger.handlers):
            return  # someone configured a handler: theirs is the say
        logger = logger.parent if logger.propagate else None
    stream = _saved[1] if _saved is not None else sys.stderr
    try:
        stream.write(last.format(record) + "\n")
        stream.flush()
    except Exception:
        pass


class _NotWhileCapturing(logging.Filter):
    """Keeps a job's records off handlers that write to the real terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _current.get() is None or _is_own(record.name)


_lock = threading.Lock()
_installs = 0
_saved: tuple[TextIO, TextIO] | None = None
_routers: tuple[_StreamRouter, _StreamRouter] | None = None
_handler = _CaptureHandler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
_filter = _NotWhileCapturing()
_filtered: list[logging.Handler] = []


def install() -> None:
    """Start routing (reference counted, so several services can share the process)."""
    global _installs, _saved, _routers
    with _lock:
        _installs += 1
        if _installs > 1:
            return
        _saved = (sys.stdout, sys.stderr)
        _routers = (_StreamRouter(sys.stdout), _StreamRouter(sys.stderr))
        sys.stdout, sys.stderr = _routers  # type: ignore[assignment]
        root = logging.getLogger()
        for handler in root.handlers:
            if handler is not _handler:
                handler.addFilter(_filter)
                _filtered.append(handler)
        root.addHandler(_handler)


def routed() -> frozenset[str]:
    """Which of ``"sys.stdout"`` and ``"sys.stderr"`` are capture's routers now."""
    if _routers is None:
        return _NONE_ROUTED
    return _ROUTED[sys.stdout is _routers[0], sys.stderr is _routers[1]]


def reclaim(names: frozenset[str]) -> list[str]:
    """Put capture's router back on each of ``names`` a job replaced since; returns them.

    A job assigning ``sys.stdout`` changes it for the whole process: every later job's
    output would go wherever it pointed, past capture, onto the console's screen.
    """
    if names == routed():  # nothing replaced: the rule, checked every execution
        return []
    with _lock:
        if _routers is None:
            return []
        taken = []
        for name, router in zip(_NAMES, _routers, strict=True):
            attribute = name.removeprefix("sys.")
            if name in names and getattr(sys, attribute) is not router:
                setattr(sys, attribute, router)
                taken.append(name)
        return taken


_NAMES = ("sys.stdout", "sys.stderr")
_NONE_ROUTED: frozenset[str] = frozenset()
#: routed() for each (stdout routed, stderr routed), made once: it is asked every execution.
_ROUTED = {
    (out, err): frozenset(n for n, on in zip(_NAMES, (out, err), strict=True) if on)
    for out in (False, True)
    for err in (False, True)
}


def begin(buffer: OutputBuffer) -> tuple[Token[OutputBuffer | None], frozenset[str]]:
    """What an execution does first, in one call (a burst makes thousands a second):
    ``install``, route this context's output into ``buffer``, and note which streams are
    capture's now. Pass the result to ``end``."""
    install()
    return _current.set(buffer), routed()


def end(begun: tuple[Token[OutputBuffer | None], frozenset[str]]) -> list[str]:
    """Undo ``begin``; returns the streams a job replaced meanwhile (see ``reclaim``)."""
    token, names = begun
    _current.reset(token)
    taken = reclaim(names)
    uninstall()
    return taken


def uninstall() -> None:
    global _installs, _saved, _routers
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
            _saved = _routers = None
        root = logging.getLogger()
        root.removeHandler(_handler)
        for handler in _filtered:
            handler.removeFilter(_filter)
        _filtered.clear()
