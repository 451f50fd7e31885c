"""How the console ends on a signal or when its terminal goes away.

SIGTERM and SIGHUP quit as `q` does; a second cancels running jobs; a third leaves at
once (``force_exit``). Closing the terminal (its window, ``tmux kill-session``, a dropped
ssh) sends SIGHUP too, and SIGCONT with it; and from then on every write to the terminal
fails (EIO). Either way the console quits as `q` does, drawing nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from jobs.core import isolation

if TYPE_CHECKING:  # the headless runner uses force_exit without loading Textual
    from textual.app import App

#: The exit status of a forced exit: 128 + SIGINT, as a shell reports Ctrl-C.
FORCED_EXIT_STATUS = 130


def force_exit() -> NoReturn:
    """Leave now: kill the process jobs' children (they would outlive us), then exit
    without waiting for anything. The last resort of every way jobconsole runs."""
    isolation.kill_all()
    os._exit(FORCED_EXIT_STATUS)


class TerminalWatch:
    """The console's signal handlers and its watch over the terminal it draws on.

    ``quit`` begins the console's own quit (as `q`); ``quitting`` says whether one has
    begun. ``terminal_gone`` turns true once nothing may be written to the terminal.
    """

    def __init__(self, app: App[Any], quit: Callable[[], None], quitting: Callable[[], bool]):
        self.app = app
        self._quit = quit
        self._quitting = quitting
        self.terminal_gone = False
        self._tty_fds: tuple[int, ...] = ()  # the descriptors of the terminal we draw on
        self._hung_up = False
        self._hangup_signalled = False
        self._signals = 0
        self._thread_hooks: tuple[Callable[[threading.ExceptHookArgs], Any], ...] = ()

    def install(self) -> None:
        """Handle SIGTERM and SIGHUP; on a real terminal, watch for it going away."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)
        driver = self.app._driver
        if driver is None or driver.is_headless:
            return
        fds = []
        for stream in (sys.__stdin__, sys.__stderr__):  # what Textual reads and draws on
            with contextlib.suppress(AttributeError, OSError, ValueError):
                if stream is not None and os.isatty(stream.fileno()):
                    fds.append(stream.fileno())
        self._tty_fds = tuple(fds)

        resume = signal.getsignal(signal.SIGCONT)
        if callable(resume):  # the driver's: it starts application mode again

            def on_sigcont(signum: int, frame: Any) -> None:
                if self._terminal_lost():
                    self._drop_terminal()
                else:
                    resume(signum, frame)

            with contextlib.suppress(ValueError):  # not the main thread
                signal.signal(signal.SIGCONT, on_sigcont)

        hook = threading.excepthook

        def on_thread_exception(args: threading.ExceptHookArgs) -> None:
            """Textual's writer thread dies of the first write that fails."""
            thread = args.thread
            if (
                thread is not None
                and thread.name == "textual-output"
                and isinstance(args.exc_value, OSError)
            ):
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(self._on_hangup)
                return
            hook(args)

        self._thread_hooks = (hook, on_thread_exception)  # theirs, ours
        threading.excepthook = on_thread_exception

    def uninstall(self) -> None:
        """Give threads' exceptions back to whoever had them before ``install``."""
        if self._thread_hooks and threading.excepthook is self._thread_hooks[1]:
            threading.excepthook = self._thread_hooks[0]
        self._thread_hooks = ()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._terminal_lost():
            if sig == signal.SIGHUP and not self._hangup_signalled:
                # The terminal's own hangup: it quits, but is no second signal if the
                # quit began already (by `q`, or a write that failed before it came).
                self._hangup_signalled = True
                self._on_hangup()
                return
            self._lose_terminal()
        self._signals += 1
        if self._signals > 2:
            force_exit()
        self._quit()

    def _on_hangup(self) -> None:
        """The terminal has gone: draw nothing more and quit as `q` does, once.

        Running jobs still get the shutdown timeout, as for any SIGHUP: their work is as
        real as when someone watches, the timeout is the user's own bound, and a signal
        (``kill``) still cancels them at once. Cancelling at once would turn closing a
        window into losing work, where `q` would not.
        """
        self._lose_terminal()
        if not self._hung_up and not self._quitting():
            self._hung_up = True
            self._quit()

    def _lose_terminal(self) -> None:
        if self.terminal_gone:
            return
        self._drop_terminal()
        # Its input thread would spin: a terminal that hung up reads as endless EOF.
        with contextlib.suppress(Exception):
            self.app._driver.disable_input()  # type: ignore[union-attr]

    def _terminal_lost(self) -> bool:
        """True once the terminal has hung up: its descriptors are no longer terminals."""
        for fd in self._tty_fds:
            try:
                if not os.isatty(fd):
                    return True
            except OSError:
                return True
        return False

    def _drop_terminal(self) -> None:
        """Write nothing to the terminal any more: it has gone. Safe in a signal handler.

        Textual's driver hands its writes to a thread through a queue of 30. On a terminal
        that has gone that thread dies at its first write (EIO), the queue fills up, and
        the next write (a frame, the quit banner, restoring the terminal, even ``close()``
        queueing the thread's stop) blocks the event loop's thread for good: no signal is
        handled any more, the scheduler never stops and the state file stays locked. The
        SIGCONT that comes with the hangup would also start application mode again, with a
        new writer thread that dies the same way. (Textual 8.2's LinuxDriver; a plain
        Textual app never gets that far: SIGHUP kills it.)
        """
        self.terminal_gone = True
        driver = self.app._driver
        if driver is None:
            return
        driver._auto_restart = False  # SIGCONT: no new application mode
        driver.write = driver.flush = _discard  # type: ignore[method-assign]
        if hasattr(driver, "_writer_thread"):
            driver._writer_thread = None  # close() must not wait for a thread that died


def _discard(*_: object) -> None:
    """What the driver writes once the terminal has gone."""
