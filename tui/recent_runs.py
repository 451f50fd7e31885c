"""The last few runs of the jobs on screen, for the table's strip and sparkline.

Holding every job's history would cost memory in proportion to the registry (100,000
jobs), and the rows on screen are a few dozen. So the table asks its client for the runs
of the rows it draws and has not got (``wanted``), keeps them here for the jobs seen
lately (the least recently drawn let go past ``capacity``), and extends them from the
executions the client reports as they end. An execution that ends while its job's runs
are being asked for is held and merged into the answer, which may have been read before
it. No Textual here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from jobs.core.records import Execution, ExecutionStatus


class Run(NamedTuple):
    """What a strip's cell and a sparkline's bar need of one execution."""

    id: int
    status: ExecutionStatus
    duration: float | None

    @classmethod
    def of(cls, execution: Execution) -> Run:
        return cls(execution.id, execution.status, execution.duration)


class RecentRuns:
    """Each job's last ``depth`` finished runs, oldest first, for ``capacity`` jobs."""

    def __init__(self, depth: int, capacity: int = 512) -> None:
        self.depth = depth
        self.capacity = capacity
        self._runs: OrderedDict[str, tuple[Run, ...]] = OrderedDict()
        self._asked: dict[str, list[Run]] = {}  # asked for: runs that ended meanwhile

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, job_id: str) -> tuple[Run, ...] | None:
        """The job's runs, or None when not held (ask for them: ``wanted``)."""
        runs = self._runs.get(job_id)
        if runs is not None:
            self._runs.move_to_end(job_id)
        return runs

    def wanted(self, job_ids: Iterable[str]) -> list[str]:
        """Those of ``job_ids`` neither held nor asked for already; from now on they are
        taken as asked for, until ``fill`` or ``not_answered``."""
        wanted = [j for j in dict.fromkeys(job_ids) if j not in self._runs and j not in self._asked]
        for job_id in wanted:
            self._asked[job_id] = []
        return wanted

    def fill(self, found: Mapping[str, Sequence[Execution]]) -> None:
        """Keep what the client answered (each job's executions, in any order)."""
        for job_id, executions in found.items():
            ended = self._asked.pop(job_id, [])
            held = self._runs.get(job_id, ())
            self._keep(job_id, [*held, *ended, *(Run.of(e) for e in executions)])

    def not_answered(self, job_ids: Iterable[str]) -> None:
        """The client could not answer: the next ``wanted`` asks again."""
        for job_id in job_ids:
            self._asked.pop(job_id, None)

    def add(self, execution: Execution) -> bool:
        """Count a run that ended; True when it changed the runs held (redraw its row)."""
        if not execution.status.is_final:
            return False
        job_id = execution.job_id
        if job_id in self._asked:
            self._asked[job_id].append(Run.of(execution))
            return False
        held = self._runs.get(job_id)
        if held is None:
            return False
        self._keep(job_id, [*held, Run.of(execution)])
        return True

    def forget(self, job_id: str) -> None:
        self._runs.pop(job_id, None)
        self._asked.pop(job_id, None)

    def clear(self) -> None:
        """Forget everything (every job was read afresh: the runs may have changed too)."""
        self._runs.clear()
        self._asked.clear()

    def _keep(self, job_id: str, runs: list[Run]) -> None:
        by_id = {run.id: run for run in runs}  # the latest record of an id wins
        self._runs[job_id] = tuple(by_id[i] for i in sorted(by_id)[-self.depth :])
        self._runs.move_to_end(job_id)
        while len(self._runs) > self.capacity:
            self._runs.popitem(last=False)
