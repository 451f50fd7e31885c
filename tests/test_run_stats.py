"""The numbers and pictures of a job's last runs, without Textual: the detail view's
figures (``tui.run_stats``), the table's sparkline, and the runs the table holds for the
rows on screen (``tui.recent_runs``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len

from jobs.core.records import Execution, ExecutionStatus, Trigger
from tui.recent_runs import RecentRuns, Run
from tui.run_stats import run_stats, spark
from tui.status_style import GLYPH

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
S, F, T, M, K = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.MISSED,
    ExecutionStatus.SKIPPED,
)


def run(
    n: int,
    status: ExecutionStatus = S,
    took: float | None = 1.0,
    late_ms: float = 10,
    *,
    job_id: str = "job",
    trigger: Trigger = Trigger.SCHEDULE,
    output: str = "",
) -> Execution:
    """The n-th run of a job due each minute: ``late_ms`` after its time, ``took`` long."""
    due = T0 + timedelta(minutes=n)
    ran = status not in (M, K)
    started = due + timedelta(milliseconds=late_ms) if ran else None
    ended = started + timedelta(seconds=took) if started and took is not None else None
    return Execution(n, job_id, status, due, started, ended, trigger, output=output)


def newest_first(*executions: Execution) -> list[Execution]:
    return sorted(executions, key=lambda e: e.id, reverse=True)


# ------------------------------------------------------------------ the figures


def test_known_runs_give_their_success_rate_percentiles_and_mean_lateness() -> None:
    took = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    runs = [run(n, F if n in (3, 7) else S, took[n], late_ms=10 * (n + 1)) for n in range(10)]
    stats = run_stats(newest_first(*runs, run(10, M, None)))
    assert (stats.looked_at, stats.ran, stats.succeeded, stats.failed) == (11, 10, 8, 2)
    assert stats.missed == 1 and stats.skipped == 0
    assert stats.success_rate == pytest.approx(0.8)
    assert stats.durations == tuple(took)  # oldest first: the chart reads left to right
    assert stats.p50 == pytest.approx(5.5)  # between the 5th and 6th
    assert stats.p95 == pytest.approx(9.55)  # 95% of the way from the 1st to the 10th
    assert stats.mean_lateness == pytest.approx(0.055)  # 10 ms ... 100 ms; missed not


def test_a_run_now_is_never_late_and_a_missed_run_never_took_time() -> None:
    stats = run_stats(
        newest_first(
            run(1, took=2.0, late_ms=40),
            run(2, took=4.0, late_ms=5000, trigger=Trigger.MANUAL),
            run(3, M, None),
        )
    )
    assert stats.mean_lateness == pytest.approx(0.040)
    assert stats.durations == (2.0, 4.0)
    assert stats.success_rate == 1.0


def test_one_run_is_its_own_p50_and_p95_and_no_runs_have_no_figures() -> None:
    one = run_stats([run(1, took=3.5)])
    assert (one.p50, one.p95) == (3.5, 3.5)
    none = run_stats([])
    assert none.looked_at == 0 and none.success_rate is None and none.p50 is None
    assert none.mean_lateness is None and none.durations == ()


def test_only_missed_and_skipped_runs_leave_the_rate_unknown_not_zero() -> None:
    stats = run_stats([run(2, K, None), run(1, M, None)])
    assert stats.success_rate is None and (stats.missed, stats.skipped) == (1, 1)


def test_a_running_execution_has_not_ended_and_is_left_out() -> None:
    running = Execution(5, "job", ExecutionStatus.RUNNING, T0, T0)
    stats = run_stats([running, run(1)])
    assert stats.looked_at == 1 and stats.ran == 1


# ------------------------------------------------------------------ the sparkline


def test_the_sparkline_scales_from_zero_so_a_steady_job_draws_steady() -> None:
    assert spark([1.00, 1.02, 0.99, 1.01], 4) == "████"  # not full swings
    assert spark([0.5, 1.0, 2.0, 4.0], 4) == "▁▂▄█"
    assert spark([0.0, 8.0], 2) == "▁█"


def test_the_sparkline_shows_the_newest_at_the_right_and_pads_on_the_left() -> None:
    assert spark([4.0, 1.0], 5) == "   █▂"
    assert spark([1.0] * 3 + [4.0], 2) == "▂█"  # only the last two fit
    assert spark([], 3) == "   "
    assert spark([0.0, 0.0], 3) == " ▁▁"


# ------------------------------------------------------------ the runs on screen


def test_the_runs_asked_for_are_kept_oldest_first_and_only_the_newest_few() -> None:
    runs = RecentRuns(depth=3)
    assert runs.get("a") is None
    assert runs.wanted(["a", "b", "a"]) == ["a", "b"]
    assert runs.wanted(["a", "c"]) == ["c"]  # a is asked for already
    runs.fill({"a": newest_first(*(run(n, job_id="a") for n in range(5))), "b": []})
    assert [r.id for r in runs.get("a") or ()] == [2, 3, 4]
    assert runs.get("b") == ()
    assert runs.wanted(["a", "b"]) == []


def test_a_run_that_ends_while_its_job_is_asked_for_is_not_lost() -> None:
    runs = RecentRuns(depth=5)
    runs.wanted(["a"])
    runs.add(run(3, F, job_id="a"))  # ended after the answer was read
    runs.fill({"a": [run(2, job_id="a"), run(1, job_id="a")]})
    assert runs.get("a") == (Run(1, S, 1.0), Run(2, S, 1.0), Run(3, F, 1.0))


def test_an_ended_run_joins_a_held_job_only_and_says_when_to_redraw() -> None:
    runs = RecentRuns(depth=2)
    runs.wanted(["a"])
    runs.fill({"a": [run(1, job_id="a")]})
    assert runs.add(run(2, T, job_id="a")) is True
    assert runs.add(run(3, job_id="a")) is True
    assert [r.status for r in runs.get("a") or ()] == [T, S]
    assert runs.add(run(9, job_id="never-drawn")) is False
    assert runs.get("never-drawn") is None
    started = Execution(4, "a", ExecutionStatus.RUNNING, T0, T0)
    assert runs.add(started) is False  # it joins when it ends


def test_an_unanswered_ask_is_asked_again_and_the_least_recently_drawn_let_go() -> None:
    runs = RecentRuns(depth=2, capacity=2)
    runs.wanted(["a"])
    runs.not_answered(["a"])
    assert runs.wanted(["a"]) == ["a"]
    runs.fill({"a": [], "b": []})
    runs.get("a")  # drawn again: b is the least recent now
    runs.fill({"c": []})
    assert runs.get("b") is None and runs.get("a") == () and runs.get("c") == ()
    runs.forget("a")
    assert runs.get("a") is None and len(runs) == 1
    runs.clear()
    assert len(runs) == 0


def test_the_held_runs_keep_no_output() -> None:
    runs = RecentRuns(depth=2)
    runs.wanted(["a"])
    runs.fill({"a": [run(1, job_id="a", output="x" * 65536)]})
    assert runs.get("a") == (Run(1, S, 1.0),)


def test_every_status_has_a_glyph_of_its_own_one_cell_wide() -> None:
    assert set(GLYPH) == set(ExecutionStatus)
    assert len(set(GLYPH.values())) == len(GLYPH)
    assert all(cell_len(glyph) == 1 for glyph in GLYPH.values())


def test_these_modules_load_no_textual() -> None:
    code = (
        "import sys, tui.run_stats, tui.recent_runs; "
        "print(any(m.startswith('textual') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
