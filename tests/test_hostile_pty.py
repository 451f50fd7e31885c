"""The console in a real pseudo-terminal: a job's escapes are drawn, never sent as such.

What reaches the terminal is the byte stream a user's terminal acts on; a description,
an error or captured output holding ESC sequences must arrive there as visible text.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.core.settings import KEYS
from tests.console_pty import Console

# Each sequence carries a word of its own, so Textual's own escapes never match.
TITLE = "\x1b]0;PWNED\x07"
CLIPBOARD = "\x1b]52;c;UFdORUQ=\x07"
RED = "\x1b[31mREDDENED"
C1_CSI = "\x9b2JCLEARED"
CR = "\rOVERWRITE"
HOSTILE = TITLE + CLIPBOARD + RED + C1_CSI + CR

REGISTRY = f"""
HOSTILE = {HOSTILE!r}


async def hostile():
    print("out " + HOSTILE)
    raise RuntimeError("err " + HOSTILE)


REGISTERED_JOBS = [
    {{
        "job_id": "hostile",
        "func": hostile,
        "cron_expression": "0 0 1 1 *",
        "description": "desc " + HOSTILE,
    }}
]
"""


def test_a_jobs_escapes_reach_the_terminal_only_as_visible_text(tmp_path: Path) -> None:
    (tmp_path / "hostilepty.py").write_text(REGISTRY)
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update(
        JOBCONSOLE_REGISTRY="hostilepty",
        JOBCONSOLE_STATE=str(tmp_path / "state" / "state.sqlite3"),
        JOBCONSOLE_TIMEZONE="UTC",
        PYTHONPATH=str(tmp_path),
    )
    console = Console(tmp_path, env)
    try:
        console.until(lambda: b"hostile" in console.screen, "the first frame")
        console.type(b"t")  # run it now: output and error in the log and the detail
        console.until(lambda: b"failed" in console.screen, "the run")
        console.type(b"\r")  # the detail view: description, output and traceback
        console.until(lambda: b"Recent executions" in console.screen, "the detail view")
        console.read_for(0.5)
        console.type(b"\x1b")
        console.read_for(0.3)
        console.type(b"o")  # the output view: the whole output and the traceback
        console.until(lambda: b"of output" in console.screen, "the output view")
        console.read_for(0.5)
        console.type(b"\x1b")
        console.read_for(0.3)
        console.type(b"q")
        console.exit_time(20)
    finally:
        console.close()
    assert console.proc.returncode == 0
    screen = console.screen
    for raw in (TITLE, CLIPBOARD, RED, C1_CSI, CR):
        assert raw.encode() not in screen, raw
    assert "\x9b" not in screen.decode("utf-8", "replace")  # a C1 CSI, as UTF-8 sends it
    assert b"\\x1b]0;PWNED\\x07" in screen  # the title sequence, drawn as text
    assert b"\\x1b]52;c;UFdORUQ=\\x07" in screen
    assert b"\\rOVERWRITE" in screen
