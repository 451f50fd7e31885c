"""The console's widgets: they render what they are given and announce what happened."""

from tui.widgets.cron_preview import CronPreview
from tui.widgets.execution_log import ExecutionLog
from tui.widgets.filter_bar import FilterBar
from tui.widgets.footer import Footer
from tui.widgets.job_table import JobTable
from tui.widgets.status_bar import SchedulerState, Status, StatusBar

__all__ = [
    "CronPreview",
    "ExecutionLog",
    "FilterBar",
    "Footer",
    "JobTable",
    "SchedulerState",
    "Status",
    "StatusBar",
]
