"""One status-to-style map: every status has a tone, and every view can draw each tone."""

from __future__ import annotations

from jobs.core.records import ExecutionStatus
from tui import status_style
from tui.widgets import ExecutionLog, JobTable


def test_every_status_is_drawn_by_the_table_the_log_and_the_detail_view() -> None:
    assert set(status_style.TONE) == set(ExecutionStatus)
    for widget, name in ((JobTable, "job-table"), (ExecutionLog, "execution-log")):
        assert set(status_style.component_classes(name).values()) <= widget.COMPONENT_CLASSES
    assert set(status_style.theme_styles()) == set(ExecutionStatus)


def test_a_failure_reads_as_an_error_and_a_run_that_did_not_happen_as_a_warning() -> None:
    tone = status_style.TONE
    assert {s for s in ExecutionStatus if tone[s] == "error"} == {
        s for s in ExecutionStatus if s.is_failure
    }
    assert tone[ExecutionStatus.MISSED] == tone[ExecutionStatus.SKIPPED] == "warning"
