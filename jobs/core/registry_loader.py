"""The registry module named by ``JOBCONSOLE_REGISTRY``, imported: its ``REGISTERED_JOBS``.

Apart from ``bootstrap.py`` so that ``SchedulerService.load_registry()`` (no argument) and
the console read the registry the same way without the service importing its builder.
"""

from __future__ import annotations

import importlib
from typing import Any

from jobs.core.funcs import search_cwd


class RegistryError(Exception):
    """The registry module named by JOBCONSOLE_REGISTRY cannot be used at all."""


def load_registry_entries(module_name: str) -> list[Any]:
    search_cwd()
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise RegistryError(
            f"JOBCONSOLE_REGISTRY={module_name!r}: the module cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    entries = getattr(module, "REGISTERED_JOBS", None)
    if not isinstance(entries, list | tuple):
        raise RegistryError(
            f"JOBCONSOLE_REGISTRY={module_name!r}: the module has no REGISTERED_JOBS list "
            "(expected REGISTERED_JOBS: list[CronJobConfig])"
        )
    return list(entries)
