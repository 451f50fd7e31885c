"""Job functions and their ``module:function`` references.

Durable state stores a reference, never a pickled function, so only functions that can
be found again by import (module-level, not lambdas or closures) can be stored.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jobs.errors import InvalidJobError

JobFunc = Callable[[], Any]


def reference_of(func: Callable[..., Any]) -> str | None:
    """``module:qualname`` when importing it gives back ``func``; None otherwise."""
    try:
        return _reference_of(func)
    except TypeError:  # unhashable callables are rare; just don't cache them
        return _reference_of.__wrapped__(func)


@lru_cache(maxsize=4096)
def _reference_of(func: Callable[..., Any]) -> str | None:
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    ref = f"{module}:{qualname}"
    try:
        found = resolve(ref)
    except InvalidJobError:
        return None
    return ref if found is func else None


def display_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}:{qualname}"


def resolve(ref: str) -> JobFunc:
    """Import ``module:function`` (``module.function`` is accepted too)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidJobError(
            f"function reference {ref!r} is empty; expected 'module:function', "
            "e.g. 'jobs.cleanup:cleanup_expired_tokens'"
        )
    text = ref.strip()
    if ":" in text:
        module_name, _, attr_path = text.partition(":")
    else:
        module_name, _, attr_path = text.rpartition(".")
    if not module_name or not attr_path:
        raise InvalidJobError(
            f"function reference {ref!r} is not of the form 'module:function', "
            "e.g. 'jobs.cleanup:cleanup_expired_tokens'"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InvalidJobError(
            f"function reference {ref!r}: module {module_name!r} cannot be imported ({exc})"
        ) from exc
    except Exception as exc:
        raise InvalidJobError(
            f"function reference {ref!r}: importing {module_name!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidJobError(
                f"function reference {ref!r}: {module_name!r} has no attribute {attr_path!r}"
            ) from None
    if not callable(obj):
        raise InvalidJobError(
            f"function reference {ref!r} names a {type(obj).__name__}, not a callable"
        )
    return obj


def check_callable(func: Any, job_id: str) -> None:
    if not callable(func):
        raise InvalidJobError(
            f"job {job_id!r}: func must be a callable or a 'module:function' string, "
            f"got {type(func).__name__} {func!r}"
        )
    try:
        problem = _argument_problem(func)
    except TypeError:
        problem = _argument_problem.__wrapped__(func)
    if problem:
        raise InvalidJobError(
            f"job {job_id!r}: {display_name(func)} needs arguments {problem}; "
            "a job function must be callable with none"
        )


@lru_cache(maxsize=4096)
def _argument_problem(func: Callable[..., Any]) -> str | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind()
    except TypeError:
        return str(signature)
    return None


def is_async(func: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


#: jobconsole's own modules: they share the ``jobs`` package with the example jobs, but
#: their functions are machinery, not jobs, and are never suggested.
CORE_MODULES = frozenset(
    f"jobs.{name}"
    for name in [
        "bootstrap",
        "capture",
        "config",
        "cron",
        "engine",
        "errors",
        "funcs",
        "isolation",
        "lock",
        "records",
        "registry",
        "restore",
        "running",
        "service",
        "settings",
        "store",
    ]
)


def discover(package: str) -> list[str]:
    """References to the job-shaped functions defined in ``package`` and its modules.

    Used to suggest functions in the console's form; import errors are skipped, since
    a broken example module must not stop the suggestions for the others.
    """
    try:
        root = importlib.import_module(package)
    except Exception:
        return []
    modules = [root]
    for info in pkgutil.iter_modules(getattr(root, "__path__", []), prefix=f"{package}."):
        if info.name in CORE_MODULES:
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except Exception:
            continue
    refs: list[str] = []
    for module in modules:
        if module.__name__ in CORE_MODULES or module.__name__ == "jobs":
            continue
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if obj.__module__ != module.__name__:
                continue
            try:
                inspect.signature(obj).bind()
            except TypeError:
                continue
            refs.append(f"{module.__name__}:{name}")
    return sorted(refs)
