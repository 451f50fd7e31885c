"""A failed job's traceback as its author wants to read it: from their own code down.

Every job's exception passes up through jobconsole's runner (the task that awaits it, the
thread that calls it); those frames come first in a plain traceback and say nothing about
the failure. The leading frames that belong to ``jobs.core`` are dropped, in the exception
and in each one it was raised from; frames further down (a job that calls back into the
library) stay, and a traceback that would be left empty is kept whole.
"""

from __future__ import annotations

import traceback
from pathlib import Path

_MACHINERY = str(Path(__file__).resolve().parent) + "/"


def _ours(frame: traceback.FrameSummary) -> bool:
    return frame.filename.startswith(_MACHINERY)


def _trim(summary: traceback.TracebackException, seen: set[int]) -> None:
    if id(summary) in seen:  # chains can loop
        return
    seen.add(id(summary))
    frames = list(summary.stack)
    first_own = next((n for n, frame in enumerate(frames) if not _ours(frame)), len(frames))
    if 0 < first_own < len(frames):
        summary.stack = traceback.StackSummary.from_list(frames[first_own:])
    for linked in (summary.__cause__, summary.__context__):
        if linked is not None:
            _trim(linked, seen)
    for grouped in getattr(summary, "exceptions", None) or ():
        _trim(grouped, seen)


def format_job_exception(exc: BaseException) -> str:
    """``exc``'s traceback without jobconsole's own leading frames."""
    summary = traceback.TracebackException.from_exception(exc)
    _trim(summary, set())
    return "".join(summary.format())
