"""StatusBar: one line saying whether jobs run, where they are kept, in which zone, the time
and the counts.

The line fits its width: when it is narrow, the state file's path is shortened (``~/…``,
then its name), the clock and the zone go, a state error is only flagged, then the file's
name goes, and last the words of a note or the host are cut; the state and the counts are
never cut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import PurePath

from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

#: The fewest characters a note or the host is cut to, and a file's name.
_MIN_WORDS = 12
_MIN_NAME = 8
#: What the line says when jobs and runs are kept in memory only (no state file).
MEMORY_ONLY = "memory only"


class SchedulerState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    OFF = "scheduling off"
    LOST = "host lost"  # an attached console's host went away


@dataclass(frozen=True, slots=True)
class Status:
    """What the status line shows; the app builds one each second.

    ``now`` is already in the scheduler's zone, ``timezone`` is that zone's name.
    ``state_file`` is the state file's path (the host's, attached), ``MEMORY_ONLY`` when
    there is none, or empty when it is not known.
    """

    state: SchedulerState
    timezone: str
    now: datetime
    jobs: int
    shown: int
    running: int
    paused: int
    failures_last_hour: int
    note: str = ""
    state_error: str = ""  # why runs are not being kept in the state file
    host: str = ""  # an attached console's host: "attached to pid 4242 (run --headless)"
    state_file: str = ""


_STATE_STYLE = {
    SchedulerState.STARTING: ("◔", "$text-warning"),
    SchedulerState.RUNNING: ("●", "$text-success"),
    SchedulerState.STOPPING: ("◐", "$text-warning"),
    SchedulerState.STOPPED: ("○", "$text-error"),
    SchedulerState.OFF: ("○", "$text-warning"),
    SchedulerState.LOST: ("○", "$text-error"),
}


class StatusBar(Static):
    """Drawn from a Status value, fitted to its width; it keeps only the last one."""

    _last: Status | None = None

    def show(self, status: Status) -> None:
        self._last = status
        width = self.content_size.width or None
        self.update(render_status(status, width), layout=False)  # one line: no re-layout

    def on_resize(self, event: Resize) -> None:
        if self._last is not None:
            self.show(self._last)


@dataclass(frozen=True, slots=True)
class _Layout:
    """How much of the line's less important parts to show."""

    file: str
    zone: bool = True
    clock: bool = True  # shown only with the zone
    error_words: bool = True  # else a state error is only flagged: the log holds its words
    room: int | None = None  # the most characters a note or the host may take


def render_status(status: Status, width: int | None = None) -> Content:
    """The line for ``status``, in at most ``width`` cells when they are enough for the
    state and the counts (None: as long as it takes)."""
    forms = _file_forms(status.state_file)
    name = forms[-1]
    layouts = [_Layout(form) for form in forms]
    layouts += [
        _Layout(name, clock=False),
        _Layout(name, zone=False, clock=False),
        _Layout(name, zone=False, clock=False, error_words=False),
    ]
    line = Content("")
    for layout in layouts:
        line = _line(status, layout)
        if width is None or line.cell_length <= width:
            return line
    assert width is not None
    kept = len(name) - (line.cell_length - width)
    file = _cut(name, kept) if kept >= _MIN_NAME else ""
    return _fit_words(status, _Layout(file, zone=False, clock=False, error_words=False), width)


def _fit_words(status: Status, layout: _Layout, width: int) -> Content:
    """The line of ``layout`` with the words of its note and host cut (not below
    ``_MIN_WORDS``) to fit ``width``."""
    line = _line(status, layout)
    over = line.cell_length - width
    words = max(len(status.note), len(status.host))
    if over <= 0 or words == 0:
        return line
    return _line(status, replace(layout, room=max(_MIN_WORDS, words - over)))


def _file_forms(path: str) -> list[str]:
    """The state file's path as shown, each shorter than the last: under the home
    directory from ``~``, then its folder and name, then its name."""
    if not path or path == MEMORY_ONLY:
        return [path]
    home = os.path.expanduser("~")
    shown = path
    if home not in ("", "/", "~") and path.startswith(home.rstrip("/") + "/"):
        shown = "~" + path[len(home.rstrip("/")) :]
    pure = PurePath(path)
    forms = [shown]
    if pure.parent.name:
        forms.append(f"…/{pure.parent.name}/{pure.name}")
    forms.append(pure.name or shown)
    return list(dict.fromkeys(forms))


def _cut(text: str, room: int | None) -> str:
    if room is None or len(text) <= room:
        return text
    return text[: room - 1] + "…"


def _line(status: Status, layout: _Layout) -> Content:
    mark, style = _STATE_STYLE[status.state]
    jobs = f"{status.jobs:,} jobs" if status.jobs != 1 else "1 job"
    if status.shown != status.jobs:  # the filter hides some: "12/10,000 jobs"
        jobs = f"{status.shown:,}/{jobs}"
    failures = status.failures_last_hour
    room = layout.room
    note, host = _cut(status.note, room), _cut(status.host, room)
    error = status.state_error if layout.error_words else ""
    parts: list[tuple[str, str] | str] = [
        (f"{mark} {status.state}", f"bold {style}"),
        f" ({note})" if note else "",
        (f" ⚠ runs not saved: {error}" if error else " ⚠ not saved", "bold $text-error")
        if status.state_error
        else "",
        " │ " if host else "",
        (host, "bold $text-error" if status.state is SchedulerState.LOST else "bold")
        if host
        else "",
        " │ " if layout.file else "",
        layout.file,
        " │ " if layout.zone else "",
        (status.timezone, "$text-accent") if layout.zone else "",
        f" {status.now:%H:%M:%S}" if layout.zone and layout.clock else "",
        " │ ",
        jobs,
        f" · {status.running:,} running · {status.paused:,} paused · ",
        (f"{failures:,} failed (1h)", "bold $text-error" if failures else ""),
    ]
    return Content.assemble(*parts)
