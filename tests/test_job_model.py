"""The job table's model without Textual: order, filter, counts, and one change a batch."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from jobs.core.records import ExecutionStatus, JobSnapshot, JobState
from tests.records import snapshot
from tui.job_model import (
    COLUMN_KEYS,
    DROP_ORDER,
    SORTABLE,
    JobTableModel,
    column_widths,
    row_width,
)

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


# ------------------------------------------------------------ columns that fit


def shown(widths: list[int]) -> list[str]:
    return [key for key, width in zip(COLUMN_KEYS, widths, strict=True) if width]


def test_the_id_and_cron_take_their_longest_value_and_the_description_the_rest() -> None:
    widths = column_widths(200, longest_id=22, longest_cron=11)
    assert shown(widths) == list(COLUMN_KEYS)
    assert widths[COLUMN_KEYS.index("id")] == 22
    assert widths[COLUMN_KEYS.index("cron")] == 11
    assert row_width(widths) == 200  # the description fills the row


def test_a_narrow_table_leaves_columns_out_in_the_documented_order() -> None:
    seen = []
    for available in range(200, 60, -1):
        widths = column_widths(available, longest_id=22, longest_cron=11)
        dropped = [key for key in DROP_ORDER if key not in shown(widths)]
        if dropped and dropped not in seen:
            seen.append(dropped)
        if available >= 77:  # the kept columns, the strip down to its least
            assert widths[COLUMN_KEYS.index("id")] == 22, available  # the id whole
        if available >= 81:  # the kept columns at their natural widths
            assert widths[COLUMN_KEYS.index("strip")] == 10, available  # ten runs
        assert row_width(widths) <= available or available < 60, available  # never wider
    assert seen == [list(DROP_ORDER[:n]) for n in range(1, len(DROP_ORDER) + 1)]


def test_below_the_kept_columns_the_id_and_cron_shrink_before_anything_scrolls() -> None:
    widths = column_widths(80, longest_id=40, longest_cron=20)
    assert shown(widths) == ["id", "cron", "state", "next", "strip"]
    assert row_width(widths) == 80
    assert widths[COLUMN_KEYS.index("strip")] == 6  # the fewest runs, before the id gives
    assert widths[COLUMN_KEYS.index("id")] < 40


def test_at_80_columns_the_strip_of_recent_runs_stays_and_the_status_word_goes() -> None:
    widths = column_widths(80, longest_id=22, longest_cron=11)
    assert shown(widths) == ["id", "cron", "state", "next", "strip"]
    assert widths[COLUMN_KEYS.index("id")] == 22 and widths[COLUMN_KEYS.index("strip")] == 9


def test_the_pictures_are_not_sortable() -> None:
    model = JobTableModel()
    assert "strip" not in SORTABLE and "trend" not in SORTABLE
    assert set(SORTABLE) == set(COLUMN_KEYS) - {"strip", "trend"}
    with pytest.raises(ValueError, match="cannot sort by 'strip'"):
        model.sort_by("strip", reverse=False)
    assert model.sort_column == "id"


def test_the_longest_id_and_expression_are_kept_as_jobs_come() -> None:
    model = JobTableModel()
    model.set_jobs([snapshot("a", cron_expression="@daily")])
    assert (model.longest_id, model.longest_cron) == (1, 6)
    model.upsert(snapshot("a_much_longer_id", cron_expression="*/5 9-17 * * 1-5"))
    assert (model.longest_id, model.longest_cron) == (16, 16)


def test_next_run_times_alone_fill_the_rows_and_move_them_when_sorted_by_them() -> None:
    """What a start changes of every job: the rows read before it had no next run."""
    model = JobTableModel()
    model.set_jobs([snap(job_id, next_run_time=None) for job_id in ("a", "b", "c")])
    model.upsert(snap("d", next_run_time=NOW))
    model.sort_by("next", reverse=False)
    assert model.ids() == ["d", "a", "b", "c"]  # no next run: last
    model.set_filter("pkg.mod")
    revision = model.revision
    assert model.set_next_runs({"c": NOW, "a": NOW + timedelta(hours=1), "gone": NOW}) is True
    assert model.ids() == ["c", "a", "b", "d"]  # by time; b and d have none: last, by id
    assert model.get("a").next_run_time == NOW + timedelta(hours=1)
    assert model.get("d").next_run_time is None  # not among the times: it has none
    assert model.job_count == 4 and model.revision == revision + 1

    model.sort_by("id", reverse=False)
    assert model.set_next_runs({"b": NOW}) is False  # no row moves when sorted by id
    assert model.get("b").next_run_time == NOW and model.get("c").next_run_time is None
    assert model.row("b").next_run_time == NOW  # what the table draws
    model.set_next_runs({"b": NOW, "a": NOW})
    model.upsert(snap("c", next_run_time=NOW + timedelta(minutes=3)))  # an event: newer
    assert model.get("c").next_run_time == NOW + timedelta(minutes=3)
    assert model.get("b").next_run_time == NOW
    model.remove("b")
    model.upsert(snap("b", next_run_time=None))
    assert model.get("b").next_run_time is None
    model.sort_by("next", reverse=True)
    assert model.ids() == ["d", "b", "c", "a"]  # a at NOW, c 3 minutes on; reversed
    model.set_jobs([snap("a", minutes=9), snap("z", minutes=1)])  # read afresh: rows' own
    assert model.ids() == ["a", "z"] and model.get("z").next_run_time == NOW + timedelta(minutes=1)
