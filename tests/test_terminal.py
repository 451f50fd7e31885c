"""The console in a real pseudo-terminal: what a job's child process prints stays off it.

A job's subprocess inherits file descriptors 1 and 2 and writes to them directly, past
any capture in Python. Without care its text lands in the middle of the console's frame.
"""

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
from pathlib import Path

from jobs.settings import KEYS

JOBCONSOLE = Path(sys.executable).with_name("jobconsole")

REGISTRY = """
import subprocess
import sys

CHILD = "import sys; print('CHILD-' + 'STDOUT'); print('CHILD-' + 'STDERR', file=sys.stderr)"


def spawns():
    subprocess.run([sys.executable, "-c", CHILD], check=True)


REGISTERED_JOBS = [{"job_id": "spawns", "func": spawns, "cron_expression": "0 0 1 1 *"}]
"""


class Terminal:
    """``jobconsole`` on the slave side of a 120x35 pty; we read and type on the master."""

    def __init__(self, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in KEYS}
        env.update(
            JOBCONSOLE_REGISTRY="ptyjobs",
            JOBCONSOLE_STATE=str(cwd / "state" / "state.sqlite3"),
            JOBCONSOLE_TIMEZONE="UTC",
            PYTHONPATH=str(cwd),
            TERM="xterm-256color",
        )
        self.proc = subprocess.Popen(
            [str(JOBCONSOLE)],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = b""

    def read_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:  # the slave side closed: the console has exited
                    return

    def wait_for(self, text: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            self.read_for(0.1)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=20)
        finally:
            os.close(self.master)


def test_a_jobs_child_process_output_goes_to_a_file_not_onto_the_screen(
    tmp_path: Path,
) -> None:
    (tmp_path / "ptyjobs.py").write_text(REGISTRY)
    terminal = Terminal(tmp_path)
    try:
        terminal.wait_for(b"spawns")
        terminal.type(b"t")  # run the selected (only) job now
        terminal.wait_for(b"succeeded")
        terminal.read_for(0.5)
        terminal.type(b"q")
        terminal.read_for(2)
    finally:
        code = terminal.close()
    assert code == 0
    assert b"CHILD-STDOUT" not in terminal.screen
    assert b"CHILD-STDERR" not in terminal.screen
    kept = (tmp_path / "state" / "console-output.log").read_text()
    assert kept.splitlines() == ["CHILD-STDOUT", "CHILD-STDERR"]
