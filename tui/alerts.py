"""What rings the bell when alerts are on: a failure, a recovery (a job succeeding after
its last counted run failed) and a missed run, found in a batch of the scheduler's events.

No Textual here: the app rings and notifies (``App.bell``, ``App.notify``); this only says
what happened, in order, in words for a notification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from jobs.core.records import ExecutionStatus, SchedulerEvent


class AlertKind(StrEnum):
    FAILED = "failed"
    RECOVERED = "recovered"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    job_id: str
    text: str

    @property
    def is_bad(self) -> bool:
        return self.kind is not AlertKind.RECOVERED


def alerts_of(
    events: Iterable[SchedulerEvent], last_status: Callable[[str], ExecutionStatus | None]
) -> list[Alert]:
    """The alerts in ``events``, oldest first. ``last_status(job_id)`` is the job's last
    counted run's status before these events (what its row showed), so that a success is
    told from a recovery; runs within the batch count in order."""
    found: list[Alert] = []
    seen: dict[str, ExecutionStatus | None] = {}
    for event in events:
        execution = event.execution
        if execution is None or not execution.status.is_final:
            continue
        job_id, status = execution.job_id, execution.status
        before = seen[job_id] if job_id in seen else last_status(job_id)
        why = f": {execution.error_line}" if execution.error_line else ""
        if status.is_failure:
            found.append(Alert(AlertKind.FAILED, job_id, f"{job_id} {status}{why}"))
        elif status is ExecutionStatus.MISSED:
            found.append(Alert(AlertKind.MISSED, job_id, f"{job_id} missed a run{why}"))
        elif status is ExecutionStatus.SUCCEEDED and before is not None and before.is_failure:
            text = f"{job_id} succeeded again; its previous run: {before}"
            found.append(Alert(AlertKind.RECOVERED, job_id, text))
        if status.is_counted:
            seen[job_id] = status
    return found
