"""The console in a real pseudo-terminal: what a job's child process prints stays off it.

A job's subprocess inherits file descriptors 1 and 2 and writes to them directly, past
any capture in Python. Without care its text lands in the middle of the console's frame.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.core.settings import KEYS
from tests.console_pty import Console

REGISTRY = """
import subprocess
import sys

CHILD = "import sys; print('CHILD-' + 'STDOUT'); print('CHILD-' + 'STDERR', file=sys.stderr)"


def spawns():
    subprocess.run([sys.executable, "-c", CHILD], check=True)


REGISTERED_JOBS = [{"job_id": "spawns", "func": spawns, "cron_expression": "0 0 1 1 *"}]
"""


def test_a_jobs_child_process_output_goes_to_a_file_not_onto_the_screen(
    tmp_path: Path,
) -> None:
    (tmp_path / "ptyjobs.py").write_text(REGISTRY)
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update(
        JOBCONSOLE_REGISTRY="ptyjobs",
        JOBCONSOLE_STATE=str(tmp_path / "state" / "state.sqlite3"),
        JOBCONSOLE_TIMEZONE="UTC",
        PYTHONPATH=str(tmp_path),
    )
    console = Console(tmp_path, env)
    try:
        console.until(lambda: b"spawns" in console.screen, "the first frame")
        console.type(b"t")  # run the selected (only) job now
        console.until(lambda: b"succeeded" in console.screen, "the run")
        console.read_for(0.5)
        console.type(b"q")
        console.exit_time(20)
    finally:
        console.close()
    assert console.proc.returncode == 0
    assert b"CHILD-STDOUT" not in console.screen
    assert b"CHILD-STDERR" not in console.screen
    kept = (tmp_path / "state" / "console-output.log").read_text()
    assert kept.splitlines() == ["CHILD-STDOUT", "CHILD-STDERR"]
