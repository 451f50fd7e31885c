"""What a job's last runs say, as numbers: how often it succeeds, how long it takes, how
late it starts. The detail view prints these beside its chart; no Textual here.

Percentiles interpolate between the two nearest durations (``statistics.quantiles``,
"inclusive", as numpy's default does), so p95 of twenty runs lies between the 19th and
20th fastest rather than being either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jobs.core.records import Execution, ExecutionStatus, Trigger

#: Bars from low to high, as Textual's Sparkline draws them.
BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class RunStats:
    """The numbers of a job's last ``looked_at`` finished executions.

    ``ran``: those that ran (counted runs: not missed or skipped). ``success_rate``:
    succeeded / ran, None when none ran. ``durations``: seconds, oldest first, of the runs
    that have one (the chart). ``p50`` / ``p95``: of those. ``mean_lateness``: seconds
    from the scheduled time to the start, over the scheduled runs that started (a run now
    is never late).
    """

    looked_at: int
    ran: int
    succeeded: int
    failed: int
    missed: int
    skipped: int
    success_rate: float | None
    durations: tuple[float, ...]
    p50: float | None
    p95: float | None
    mean_lateness: float | None


def run_stats(executions: Sequence[Execution]) -> RunStats:
    """The numbers of ``executions`` (newest first, as the client answers); running ones
    are left out: they have not ended."""
    import statistics  # with fractions and decimal: not for the table's first frame

    finished = [e for e in reversed(executions) if e.status.is_final]
    counted = [e for e in finished if e.status.is_counted]
    succeeded = sum(e.status is ExecutionStatus.SUCCEEDED for e in counted)
    durations = tuple(d for e in finished if (d := e.duration) is not None)
    lateness = [
        late for e in finished if e.trigger is Trigger.SCHEDULE and (late := e.lateness) is not None
    ]
    p50, p95 = _percentiles(durations)
    return RunStats(
        looked_at=len(finished),
        ran=len(counted),
        succeeded=succeeded,
        failed=sum(e.status.is_failure for e in counted),
        missed=sum(e.status is ExecutionStatus.MISSED for e in finished),
        skipped=sum(e.status is ExecutionStatus.SKIPPED for e in finished),
        success_rate=succeeded / len(counted) if counted else None,
        durations=durations,
        p50=p50,
        p95=p95,
        mean_lateness=statistics.fmean(lateness) if lateness else None,
    )


def _percentiles(durations: Sequence[float]) -> tuple[float | None, float | None]:
    import statistics

    if not durations:
        return None, None
    if len(durations) == 1:
        return durations[0], durations[0]
    cuts = statistics.quantiles(durations, n=20, method="inclusive")
    return cuts[9], cuts[18]


def spark(durations: Sequence[float], width: int) -> str:
    """The last ``width`` durations as one bar each, right-aligned, scaled from zero.

    Textual's Sparkline scales from the smallest value, so a job taking 1.00 s and 1.02 s
    in turn would draw as full swings in a cell too small for an axis; here a bar's height
    is its share of the longest run shown (at least the lowest bar, so a quick run beside
    a slow one still shows).
    """
    shown = list(durations)[-width:] if width > 0 else []
    peak = max(shown, default=0.0)
    if peak <= 0:
        return " " * (width - len(shown)) + BARS[0] * len(shown)
    top = len(BARS) - 1
    bars = "".join(BARS[min(top, max(0, int(d / peak * len(BARS) - 1e-9)))] for d in shown)
    return " " * (width - len(shown)) + bars
