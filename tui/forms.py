"""What the console's forms take from what was typed, and where a refusal is shown.

The forms only ask; the service decides. These helpers turn a field's text into the value
the service takes (``parse_timeout``) and a refusal into the field it is about
(``register_error``), by the exception's type and ``field``, never by its words.
"""

from __future__ import annotations

from jobs.config import MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT
from jobs.core import cron
from jobs.core.errors import JobError, shown
from tui.screens.register import Field


def parse_timeout(text: str) -> float | None:
    """The timeout field: empty or "none" for no timeout, else seconds above 0 (at most
    the service's limit, so that the field at fault says so)."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_TIMEOUT_SECONDS:
        raise ValueError(
            f"timeout: {shown(text)} is not a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_TEXT}; e.g. 30, or empty for none"
        )
    return value


def register_error(error: JobError | cron.CronError | cron.TimezoneError) -> tuple[Field, str]:
    """The register form's field for a refusal of ``register_job``, and what to show.

    A cron error shows its reason (the expression is already in the field); an error
    about the id goes under the id; anything else is about the function, the form's only
    other field (a time zone comes from the settings, so it is the function's too).
    """
    if isinstance(error, cron.CronError):
        return "cron", error.reason
    if isinstance(error, JobError) and error.field == "job_id":
        return "job_id", str(error)
    return "func", str(error)
