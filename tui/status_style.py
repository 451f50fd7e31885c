"""How an execution's status looks, written once for the job table's status column, the
log pane and the detail view: each status has a tone, and each of them draws a tone its
own way (a component class of its widget, or a theme variable). No Textual here."""

from __future__ import annotations

from jobs.core.records import ExecutionStatus

#: A run going on, one that went well, one that went wrong, one that did not run as planned.
TONE: dict[ExecutionStatus, str] = {
    ExecutionStatus.RUNNING: "running",
    ExecutionStatus.SUCCEEDED: "success",
    ExecutionStatus.FAILED: "error",
    ExecutionStatus.TIMED_OUT: "error",
    ExecutionStatus.INTERRUPTED: "error",
    ExecutionStatus.MISSED: "warning",
    ExecutionStatus.SKIPPED: "warning",
    ExecutionStatus.CANCELLED: "warning",
}

#: Each status as one cell of a strip of runs: a shape of its own, so that the strip
#: reads without colour too (a terminal without it, a colour-blind eye, the cursor's row).
GLYPH: dict[ExecutionStatus, str] = {
    ExecutionStatus.RUNNING: "▸",
    ExecutionStatus.SUCCEEDED: "✓",
    ExecutionStatus.FAILED: "✗",
    ExecutionStatus.TIMED_OUT: "◷",
    ExecutionStatus.INTERRUPTED: "↯",
    ExecutionStatus.MISSED: "○",
    ExecutionStatus.SKIPPED: "»",
    ExecutionStatus.CANCELLED: "⊘",
}

#: Each tone as a theme variable, for text styled by Content (the detail view).
THEME_VARIABLE: dict[str, str] = {
    "running": "$text-primary",
    "success": "$text-success",
    "error": "$text-error",
    "warning": "$text-warning",
}


def component_classes(widget: str) -> dict[ExecutionStatus, str]:
    """Each status's component class of a Line API widget: ``WIDGET--TONE``, which the
    widget's ``COMPONENT_CLASSES`` and the stylesheet name."""
    return {status: f"{widget}--{tone}" for status, tone in TONE.items()}


def theme_styles() -> dict[ExecutionStatus, str]:
    """Each status's theme variable (see ``THEME_VARIABLE``)."""
    return {status: THEME_VARIABLE[tone] for status, tone in TONE.items()}
