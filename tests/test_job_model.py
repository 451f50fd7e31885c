"""The job table's model without Textual: order, filter, counts, and one change a batch."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from jobs.core.records import ExecutionStatus, JobSnapshot, JobState
from tests.records import snapshot
from tui.job_model import JobTableModel

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def snap(
    job_id: str, *, state: JobState = JobState.SCHEDULED, minutes: int = 5, **kw
) -> JobSnapshot:
    values = {
        "func_ref": f"pkg.mod:{job_id}",
        "cron_expression": "*/5 * * * *",
        "state": state,
        "next_run_time": NOW + timedelta(minutes=minutes),
    }
    values.update(kw)
    return snapshot(job_id, **values)


def test_rows_sort_by_a_column_either_way_with_no_value_last() -> None:
    model = JobTableModel()
    model.set_jobs([snap("b", minutes=1), snap("c", minutes=9), snap("a", next_run_time=None)])
    assert model.ids() == ["a", "b", "c"]
    model.sort_by("next", reverse=False)
    assert model.ids() == ["b", "c", "a"]
    model.sort_by("next", reverse=True)
    assert model.ids() == ["a", "c", "b"]
    assert model.row_of("c") == 1 and model.id_at(2) == "b"


def test_an_update_moves_a_row_only_when_its_key_changes() -> None:
    model = JobTableModel()
    model.set_jobs([snap("a"), snap("b")])
    assert model.upsert(snap("a", run_count=3)) is False  # sorted by id: it stays
    assert model.upsert(snap("0first")) is True
    assert model.ids() == ["0first", "a", "b"]


def test_the_filter_searches_id_function_description_state_and_last_status() -> None:
    model = JobTableModel()
    model.set_jobs(
        [
            snap("alpha", description="Nightly backup"),
            snap("beta", state=JobState.PAUSED),
            snap("gamma", last_status=ExecutionStatus.TIMED_OUT),
        ]
    )
    for needle, ids in [
        ("ALPHA", ["alpha"]),
        ("backup", ["alpha"]),
        ("paused", ["beta"]),
        ("timed out", ["gamma"]),
        ("pkg.mod:be", ["beta"]),
        ("nothing", []),
    ]:
        model.set_filter(needle)
        assert model.ids() == ids, needle
    assert model.job_count == 3
    model.set_filter("")
    assert model.row_count == 3


def test_a_job_that_changes_under_the_filter_comes_and_goes() -> None:
    model = JobTableModel()
    model.set_jobs([snap("a"), snap("b")])
    model.set_filter("paused")
    assert model.ids() == []
    assert model.upsert(snap("b", state=JobState.PAUSED)) is True
    assert model.ids() == ["b"]
    assert model.upsert(snap("b")) is True
    assert model.ids() == []


def test_counts_per_state_follow_the_jobs() -> None:
    model = JobTableModel()
    model.set_jobs([snap("a"), snap("b", state=JobState.RUNNING)])
    model.upsert(snap("a", state=JobState.PAUSED))
    model.remove("b")
    counts = model.state_counts()
    assert counts[JobState.PAUSED] == 1 and counts[JobState.RUNNING] == 0
    assert model.remove("b") is False


def test_a_batch_of_a_thousand_updates_is_one_change() -> None:
    model = JobTableModel()
    model.set_jobs([snap(f"job{n:04}") for n in range(1000)])
    before = model.revision
    changes: dict[str, JobSnapshot | None] = {
        f"job{n:04}": snap(f"job{n:04}", run_count=1) for n in range(1000)
    }
    changes["job0000"] = None
    moved, in_place = model.apply(changes)
    assert model.revision == before + 1
    assert moved and len(in_place) == 999
    assert model.job_count == 999 and model.get("job0001").run_count == 1  # type: ignore[union-attr]


def test_the_model_loads_no_textual() -> None:
    code = "import sys, tui.job_model; print(any(m.startswith('textual') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
