"""``jobconsole`` in a real pseudo-terminal, for the tests that need one (signals, output)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

JOBCONSOLE = Path(sys.executable).with_name("jobconsole")

#: The console's launcher: it makes the pty the controlling terminal of its new session,
#: as tmux and sshd do, then becomes ``jobconsole``. Closing the master side then hangs
#: the terminal up, and the kernel sends the console SIGHUP and SIGCONT.
TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; "
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class Console:
    """``jobconsole`` on the slave side of a 120x35 pty; we read and type on the master.

    ``controlling`` False leaves the pty a terminal it merely has open (as after ``setsid``
    in a shell): its hangup then sends no signal, and only the writes fail.
    """

    def __init__(self, tmp_path: Path, env: dict[str, str], controlling: bool = True) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        launcher = [sys.executable, "-c", TAKE_TERMINAL] if controlling else []
        self.proc = subprocess.Popen(
            [*launcher, str(JOBCONSOLE)],
            cwd=tmp_path,
            env={**env, "TERM": "xterm-256color"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = b""

    def read_for(self, seconds: float) -> None:
        """Take what it draws (a full pty would stall it) for ``seconds`` or until it exits."""
        deadline = time.monotonic() + seconds
        while self.master >= 0 and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:  # EIO: nothing holds the slave side any more
                    time.sleep(min(left, 0.05))

    def until(self, done: Callable[[], bool], what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
            self.read_for(0.05)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exit_time(self, timeout: float) -> float:
        """Seconds until the console exits; fails past ``timeout``."""
        start = time.monotonic()
        self.until(lambda: self.proc.poll() is not None, "exit", timeout)
        return time.monotonic() - start

    def hang_up(self) -> None:
        """Close the terminal, as closing its window or ``tmux kill-session`` does."""
        os.close(self.master)
        self.master = -1

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.master >= 0:
            os.close(self.master)
