"""The console's screens over the job table; each returns its result with ``dismiss``."""

from tui.screens.confirm import ConfirmScreen
from tui.screens.edit import EditScheduleScreen
from tui.screens.help import HelpScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.output import OutputScreen
from tui.screens.register import RegisterScreen
from tui.screens.sort import SortScreen
from tui.screens.timeline import TimelineScreen

__all__ = [
    "ConfirmScreen",
    "EditScheduleScreen",
    "HelpScreen",
    "JobDetailScreen",
    "OutputScreen",
    "RegisterScreen",
    "SortScreen",
    "TimelineScreen",
]
