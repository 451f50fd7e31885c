"""JSON for what crosses the control socket: the frozen values and the library's refusals.

Both directions are generic over dataclass fields (msgspec, by their type hints), so a
new field or option, or a nested dataclass of them, crosses without an edit here: enums
go as their values, datetimes as ISO 8601 with their offset (``Z`` for UTC), tuples as
lists. A field the reader does not know is ignored and one the writer did not send takes
its default, so a console and a host one version apart still understand each other (a
value the reader cannot take, such as a new state, is a ``ValueError``).

A refusal goes as ``{"error": class name, "message": str(exc), "field": exc.field,
"details": {...the exception's own plain attributes}}`` and is raised again on the client
as the same class with the same words, ``field`` and attributes (``job_id``, ``reason``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from jobs.core.cron import CronError, TimezoneError
from jobs.core.errors import (
    DuplicateJobError,
    HostUnavailableError,
    InvalidJobError,
    JobError,
    JobNotFoundError,
    ReadOnlyError,
)

T = TypeVar("T")

#: The most jobs one ``POST /runs`` asks about, and the most runs it asks of each (a
#: hundred thousand light records at most: an answer the host writes in a moment).
MAX_RUN_JOBS = 1000
MAX_RUNS = 100


class ControlError(JobError):
    """A request the control API could not take as asked (not JSON, an unknown route, a
    body too large, another user): ``status`` is the HTTP status it answered with."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.status = status


# ------------------------------------------------------------------ encoding


def _default(value: Any) -> Any:
    """What the encoders cannot write themselves."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: getattr(value, name) for name in _field_names(type(value))}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} over the control socket")


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON (msgspec writes 10,000 snapshots in a few milliseconds).
    Text that is not valid Unicode (a job's stray surrogates) crosses with a ``?`` for
    each unpaired surrogate: UTF-8 cannot carry them."""
    import msgspec

    try:
        return msgspec.json.encode(value, enc_hook=_default)
    except UnicodeEncodeError:
        text = json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8", "replace")


def frame(kind: str, value: Any) -> bytes:
    """One server-sent event: ``event: KIND`` and the value as one line of JSON."""
    return b"event: " + kind.encode() + b"\ndata: " + dumps(value) + b"\n\n"


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# ------------------------------------------------------------------ decoding


def loads(raw: bytes | str, kind: Any = Any) -> Any:
    """Parse JSON as a value of ``kind`` (a dataclass, ``list[JobSnapshot]``, ...), by the
    fields' type hints; raises ``ValueError`` when it is not JSON or not of that shape."""
    import msgspec

    try:
        return _decoder(kind).decode(raw)
    except msgspec.DecodeError as exc:  # ValidationError is one
        raise ValueError(str(exc)) from None


def load(cls: type[T], data: Any) -> T:
    """A ``cls`` from JSON already parsed (a dict)."""
    import msgspec

    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


@cache
def _decoder(kind: Any) -> Any:
    import msgspec

    return msgspec.json.Decoder(kind)


# ------------------------------------------------------------------ errors

#: The refusals a client raises again as themselves, and the status each is answered with
#: (the first of its classes found here, in this order).
_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (ControlError, 400),  # its own status wins; see status_of
    (JobNotFoundError, 404),
    (DuplicateJobError, 409),
    (ReadOnlyError, 403),
    (HostUnavailableError, 503),
    (InvalidJobError, 422),
    (CronError, 422),
    (TimezoneError, 422),
    (JobError, 422),
    (LookupError, 404),
    (ValueError, 422),
    (TypeError, 422),
    (RuntimeError, 409),
)
_KNOWN: dict[str, type[BaseException]] = {cls.__name__: cls for cls, _ in _STATUS}


def status_of(exc: BaseException) -> int:
    if isinstance(exc, ControlError):
        return exc.status
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: BaseException) -> dict[str, Any]:
    details = {
        key: value
        for key, value in vars(exc).items()
        if key != "field" and not key.startswith("_") and _plain(value)
    }
    return {
        "error": type(exc).__name__ if type(exc).__name__ in _KNOWN else "ControlError",
        "message": str(exc),
        "field": getattr(exc, "field", None),
        "details": details,
    }


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def error_from(body: Any, status: int) -> Exception:
    """The exception a host answered with, rebuilt: same class, words, ``field``, details."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return ControlError(f"the host answered {status} without an error message", status=status)
    cls = _KNOWN.get(body.get("error") or "", ControlError)
    exc: Exception = cls.__new__(cls)  # type: ignore[assignment]
    Exception.__init__(exc, body["message"])
    details = body.get("details")
    if isinstance(details, dict):
        for key, value in details.items():
            if isinstance(key, str) and not key.startswith("_") and _plain(value):
                setattr(exc, key, value)
    if isinstance(exc, ControlError):
        exc.status = status
    field = body.get("field")
    exc.field = field if isinstance(field, str) else None  # type: ignore[attr-defined]
    return exc
