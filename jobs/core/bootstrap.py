"""From settings to a ready SchedulerService: the registry imported and its jobs loaded.

Shared by the console, ``run --headless`` and ``list``, so all three see the same jobs.
"""

from __future__ import annotations

import importlib
from typing import Any

from jobs.core.service import SchedulerService
from jobs.core.settings import Settings


class RegistryError(Exception):
    """The registry module named by JOBCONSOLE_REGISTRY cannot be used at all."""


def load_registry_entries(module_name: str) -> list[Any]:
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


def build_service(
    settings: Settings | None = None,
    *,
    durable: bool = True,
    read_only: bool = False,
    role: str = "library",
    at_start: bool = False,
) -> SchedulerService:
    """A service with the registry's jobs registered; boot errors are in ``boot_errors``.

    ``durable`` opens the state file (locked for this process unless ``read_only``), now,
    or with ``at_start`` when the service starts, standing by while another process
    holds it. An empty ``JOBCONSOLE_STATE`` (``state_path`` None) means no state file.
    """
    settings = settings or Settings.load()
    store = None
    durable = durable and settings.state_path is not None
    if durable and not at_start:
        from jobs.core.store import Store

        store = Store.open(settings, read_only=read_only, role=None if read_only else role)
    service = SchedulerService(settings, store=store, role=role, durable=durable and at_start)
    service.load_registry(load_registry_entries(settings.registry))
    return service
