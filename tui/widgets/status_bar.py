"""StatusBar: one line saying whether jobs run, in which zone, the time and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from textual.content import Content
from textual.widgets import Static


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


_STATE_STYLE = {
    SchedulerState.STARTING: ("◔", "$text-warning"),
    SchedulerState.RUNNING: ("●", "$text-success"),
    SchedulerState.STOPPING: ("◐", "$text-warning"),
    SchedulerState.STOPPED: ("○", "$text-error"),
    SchedulerState.OFF: ("○", "$text-warning"),
    SchedulerState.LOST: ("○", "$text-error"),
}


class StatusBar(Static):
    """Drawn from a Status value; it holds no state of its own."""

    def show(self, status: Status) -> None:
        self.update(render_status(status), layout=False)  # one line: no re-layout


def render_status(status: Status) -> Content:
    mark, style = _STATE_STYLE[status.state]
    jobs = f"{status.jobs:,} jobs" if status.jobs != 1 else "1 job"
    if status.shown != status.jobs:  # the filter hides some: "12/10,000 jobs"
        jobs = f"{status.shown:,}/{jobs}"
    failures = status.failures_last_hour
    parts: list[tuple[str, str] | str] = [
        (f"{mark} {status.state}", f"bold {style}"),
        f" ({status.note})" if status.note else "",
        (f" ⚠ runs not saved: {status.state_error}", "bold $text-error")
        if status.state_error
        else "",
        " │ " if status.host else "",
        (status.host, "bold $text-error" if status.state is SchedulerState.LOST else "bold")
        if status.host
        else "",
        " │ ",
        (status.timezone, "$text-accent"),
        f" {status.now:%H:%M:%S}",
        " │ ",
        jobs,
        f" · {status.running:,} running · {status.paused:,} paused · ",
        (f"{failures:,} failed (1h)", "bold $text-error" if failures else ""),
    ]
    return Content.assemble(*parts)
