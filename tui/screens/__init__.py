"""The console's screens over the job table; each returns its result with ``dismiss``.

Each is imported when first asked for (PEP 562): the console's first frame needs none of
them, and importing them all took a tenth of a bare Textual app's start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.edit import EditScheduleScreen
    from tui.screens.help import HelpScreen
    from tui.screens.job_detail import JobDetailScreen
    from tui.screens.output import OutputScreen
    from tui.screens.register import RegisterScreen
    from tui.screens.sort import SortScreen
    from tui.screens.timeline import TimelineScreen

_MODULES = {
    "ConfirmScreen": "confirm",
    "EditScheduleScreen": "edit",
    "HelpScreen": "help",
    "JobDetailScreen": "job_detail",
    "OutputScreen": "output",
    "RegisterScreen": "register",
    "SortScreen": "sort",
    "TimelineScreen": "timeline",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
