"""Job functions and their ``module:function`` references.

Durable state stores a reference, never a pickled function, so only functions that can
be found again by import (module-level, not lambdas or closures) can be stored.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from functools import lru_cache
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

from jobs.core.errors import InvalidJobError

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


def search_cwd() -> None:
    """Let modules in the current directory be imported, as ``python -m`` lets them.

    A console script's ``sys.path`` starts at its own ``bin/`` directory, so without this
    ``JOBCONSOLE_REGISTRY=myjobs`` (``myjobs.py`` here) would need ``PYTHONPATH=.``. The
    directory goes last, not first as ``python -m`` puts it: a file in whatever directory
    the command is run from must not shadow the standard library or an installed package.
    It goes as an absolute path, so a ``module:function`` typed in the console and an
    isolated job's child (given ``sys.path`` as its PYTHONPATH) find the same modules.
    """
    try:
        here = os.getcwd()
    except OSError:  # the directory was removed under us: nothing to add
        return
    if "" not in sys.path and here not in sys.path:
        sys.path.append(here)


def resolve(ref: str) -> JobFunc:
    """Import ``module:function`` (``module.function`` is accepted too); modules in the
    current directory are found (``search_cwd``)."""
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
    search_cwd()
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


#: jobconsole's own machinery (this package): it shares ``jobs`` with the example jobs, but
#: its functions are not jobs and are never suggested.
MACHINERY = __name__.rpartition(".")[0]


def discover(package: str) -> list[str]:
    """References to the job-shaped functions defined in ``package`` and its modules,
    found without running any of their code.

    Used to suggest functions in the console's form, which must not execute a module's
    top-level code (it may connect, write or delete) just because the form was opened: a
    module already imported is looked at, one not yet imported is read (its source parsed
    for module-level ``def`` and ``async def``), and only submitting the form imports it.
    A module that cannot be read is skipped: it must not stop the suggestions for others.
    """
    import pkgutil  # only the register form's suggestions list a package

    names = [package]
    for info in pkgutil.iter_modules(_package_path(package), prefix=f"{package}."):
        if info.name.rpartition(".")[2].isidentifier():  # not "notes (copy).py"
            names.append(info.name)
    refs: list[str] = []
    for name in names:
        if name == MACHINERY or name == "jobs":
            continue
        module = sys.modules.get(name)
        refs += _imported_functions(module) if module is not None else _read_functions(name)
    return sorted(refs)


def _spec(name: str) -> ModuleSpec | None:
    """Where ``name`` would be imported from, without importing it or, for a submodule,
    its package (whose ``__init__`` would run)."""
    parent = name.rpartition(".")[0]
    if parent and parent not in sys.modules:
        return None
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _package_path(package: str) -> list[str]:
    module = sys.modules.get(package)
    if module is not None:
        return list(getattr(module, "__path__", []))
    spec = _spec(package)
    return list(spec.submodule_search_locations or []) if spec is not None else []


def _imported_functions(module: ModuleType) -> list[str]:
    refs: list[str] = []
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
    return refs


def _read_functions(name: str) -> list[str]:
    spec = _spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []
    try:
        tree = ast.parse(importlib.util.decode_source(Path(spec.origin).read_bytes()))
    except (OSError, SyntaxError, ValueError, RecursionError):
        return []
    return [
        f"{name}:{node.name}"
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and _needs_no_arguments(node.args)
    ]


def _needs_no_arguments(args: ast.arguments) -> bool:
    positional = len(args.posonlyargs) + len(args.args)
    return positional == len(args.defaults) and None not in args.kw_defaults
