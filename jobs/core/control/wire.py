"""JSON for what crosses the control socket: the frozen values and the library's refusals.

Both directions are generic over dataclass fields, so a new field or option (or a nested
dataclass of them) crosses without an edit here: enums go as their values, datetimes as
ISO 8601 with their offset, tuples as lists; reading back follows each field's type hint.
A field the reader does not know is ignored and one the writer did not send takes its
default, so a console and a host one version apart still understand each other.

A refusal goes as ``{"error": class name, "message": str(exc), "field": exc.field,
"details": {...the exception's own plain attributes}}`` and is raised again on the client
as the same class with the same words, ``field`` and attributes (``job_id``, ``reason``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from functools import cache, partial
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


class ControlError(JobError):
    """A request the control API could not take as asked (not JSON, an unknown route, a
    body too large, another user): ``status`` is the HTTP status it answered with."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.status = status


# ------------------------------------------------------------------ encoding


def _default(value: Any) -> Any:
    """What ``json`` cannot write itself; str and int enums it writes as their values."""
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
    """``value`` as compact JSON; ASCII, so a job's stray surrogates cross unharmed."""
    return json.dumps(value, default=_default, separators=(",", ":")).encode()


def frame(kind: str, value: Any) -> bytes:
    """One server-sent event: ``event: KIND`` and the value as one line of JSON."""
    return b"event: " + kind.encode() + b"\ndata: " + dumps(value) + b"\n\n"


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# ------------------------------------------------------------------ decoding


def load(cls: type[T], data: Any) -> T:
    """A ``cls`` (a dataclass) from what ``dumps`` wrote of one."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    names, converters = _decoder(cls)
    kwargs = {name: data[name] for name in names if name in data}
    for name, convert in converters:
        value = kwargs.get(name)
        if value is not None:
            kwargs[name] = convert(value)
    return cls(**kwargs)


def load_list(cls: type[T], data: Any) -> list[T]:
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list of {cls.__name__}, got {type(data).__name__}")
    return [load(cls, item) for item in data]


@cache
def _decoder(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    """The fields ``cls`` takes, and a converter for each that JSON cannot give as is."""
    hints = typing.get_type_hints(cls)
    names = frozenset(f.name for f in dataclasses.fields(cls) if f.init)
    converters = []
    for name in sorted(names):
        convert = _converter(hints.get(name, Any))
        if convert is not None:
            converters.append((name, convert))
    return names, tuple(converters)


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn JSON into a value of type ``hint``; None when JSON's value will do."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converter(options[0]) if len(options) == 1 else None  # None is handled
    if hint is datetime:
        return datetime.fromisoformat
    if hint is timedelta:
        return lambda seconds: timedelta(seconds=seconds)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return partial(load, hint)
    if origin in (tuple, list, set, frozenset):
        args = typing.get_args(hint)
        item = _converter(args[0]) if args else None
        make = origin
        if item is None:
            return make
        return lambda values: make(None if v is None else item(v) for v in values)
    return None


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
