"""What the console's forms take from what was typed, and where a refusal is shown.

The forms only ask; the service decides. A typed timeout is read by the core's own
``job_options.parse_timeout``, as the service would; ``register_error`` puts a refusal
under the field it is about, by the exception's type and ``field``, never by its words.
"""

from __future__ import annotations

from jobs.core import cron
from jobs.core.errors import JobError
from tui.screens.register import Field


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
