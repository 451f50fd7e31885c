"""What the console's forms take from what was typed, and where a refusal is shown.

The forms only ask; the service decides. A typed timeout is read by the core's own
``job_options.parse_timeout``, as the service would; ``register_error`` puts a refusal
under the field it is about, by the exception's type and ``field``, never by its words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobs.core import cron
from jobs.core.errors import JobError
from jobs.core.job_options import OptionKeys, parse_timeout

if TYPE_CHECKING:
    from tui.screens.register import Field

#: The register form's field for each option's ``JobError.field``.
_OPTION_FIELDS: dict[str, Field] = {
    "job_id": "job_id",
    "func": "func",
    "cron_expression": "cron",
    "description": "description",
    "timezone": "timezone",
    "timeout_seconds": "timeout",
}


def register_error(error: JobError | cron.CronError | cron.TimezoneError) -> tuple[Field, str]:
    """The register form's field for a refusal of ``register_job``, and what to show.

    A cron error shows its reason (the expression is already in the field); a zone error
    goes under the zone; an error naming an option goes under that option's field; any
    other is about the function (what the service checks besides the fields).
    """
    if isinstance(error, cron.CronError):
        return "cron", error.reason
    if isinstance(error, cron.TimezoneError):
        return "timezone", str(error)
    field = getattr(error, "field", None)
    return _OPTION_FIELDS.get(field or "", "func"), str(error)


def register_options(description: str, timezone: str, timeout: str) -> OptionKeys:
    """The options the register form's optional fields give, as typed: an empty one is
    not given (the service's default). A timeout that is no number of seconds raises
    ValueError in ``parse_timeout``'s words."""
    options: OptionKeys = {}
    if description.strip():
        options["description"] = description.strip()
    if timezone:
        options["timezone"] = timezone
    seconds = parse_timeout(timeout)
    if seconds is not None:
        options["timeout_seconds"] = seconds
    return options
