"""Running a job in a child process, for jobs that may crash the interpreter.

A job marked ``isolation="process"`` runs in a child ``python -c`` given its reference.
``os._exit``, a segfault or a memory blow-up then ends only the child: the parent records
the exit status as a failure and goes on. Unlike a thread, a child can be killed, so a
timeout or a shutdown really stops it; on Linux it dies with jobconsole, even a SIGKILLed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from jobs.core.capture import OutputBuffer

#: The child's last stderr line starting with this carries the exception, for the record.
ERROR_MARK = "jobconsole-error: "

#: Process groups of the job processes running now, so that a forced exit can kill them.
_running: set[int] = set()


class ProcessJobError(Exception):
    """The child failed; ``str()`` is the error line, ``traceback`` what it printed."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace


async def run(func_ref: str, buffer: OutputBuffer) -> None:
    """Run ``func_ref`` in a child; its stdout and stderr go to ``buffer``.

    Raises ProcessJobError when the child fails; cancelling kills the child.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        func_ref,
        str(os.getpid()),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    assert process.stdout is not None
    _running.add(process.pid)
    error_line = ""
    tail: list[str] = []
    try:
        while chunk := await process.stdout.read(65536):
            text = chunk.decode(errors="replace")
            buffer.write(text)
            tail = (tail + text.splitlines())[-200:]
        code = await process.wait()
    except asyncio.CancelledError:
        _kill(process)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
        raise
    finally:
        _running.discard(process.pid)
    for line in reversed(tail):
        if line.startswith(ERROR_MARK):
            error_line = line.removeprefix(ERROR_MARK)
            break
    if code == 0:
        return
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else code
        raise ProcessJobError(f"the job's process was killed by signal {name} ({code})")
    trace = _traceback_from(tail)
    if error_line:
        raise ProcessJobError(f"{error_line} (process exited with status {code})", trace)
    raise ProcessJobError(f"the job's process exited with status {code}", trace)


def _traceback_from(lines: list[str]) -> str | None:
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            return "\n".join(lines[index:]) + "\n"
    return None


def kill_all() -> None:
    """Kill every job process still running: a forced exit cannot wait for them, and a
    child in its own session would otherwise outlive jobconsole and run on alone."""
    for group in list(_running):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# The child imports only the job's own module: not jobs/, APScheduler or Textual. On Linux
# it asks to be killed when its parent dies (PR_SET_PDEATHSIG is 1): a SIGKILLed jobconsole
# runs no code to kill it, and the job would run on alone, past any timeout. The parent
# may have died before that request: then its pid is no longer the child's parent.
_CHILD = f"""
import asyncio, importlib, inspect, os, signal, sys, traceback
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    if os.getppid() != int(sys.argv[2]):
        os._exit(1)
sys.stdout.reconfigure(line_buffering=True)
ref = sys.argv[1]
module, _, path = ref.partition(":")
try:
    func = importlib.import_module(module)
    for part in path.split("."):
        func = getattr(func, part)
    result = func()
    if inspect.isawaitable(result):
        asyncio.run(result)
except BaseException as exc:
    sys.stdout.flush()
    traceback.print_exc()
    print("{ERROR_MARK}" + type(exc).__name__ + ": " + str(exc), file=sys.stderr, flush=True)
    sys.exit(1)
"""
